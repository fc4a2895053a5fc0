"""Command palette provider: the actions of the current screen and the app, by description."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from still2tui.actions import ACTIONS
from still2tui.screens import scope_of


def shown_keys(keys: str) -> str:
    from still2tui.components.help_screen import shown_keys as shown

    return shown(keys)


class ScreenCommands(Provider):
    """Context-aware: what the palette offers depends on the screen it was opened from."""

    def _actions(self):
        screen = self.screen
        scope = scope_of(screen)
        for action in ([*ACTIONS.get(scope, [])] if scope else []) + ACTIONS["app"]:
            if action.id.startswith("table."):
                continue
            target = self.app if action.action.startswith("app.") else screen
            yield action, target

    async def _run(self, target, action: str) -> None:
        await target.run_action(action.removeprefix("app."))

    async def discover(self) -> Hits:
        for action, target in self._actions():
            yield DiscoveryHit(
                action.description, partial(self._run, target, action.action), help=f"key: {shown_keys(action.keys)}"
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action, target in self._actions():
            score = matcher.match(action.description)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(action.description),
                    partial(self._run, target, action.action),
                    help=f"key: {shown_keys(action.keys)}",
                )
