"""The footer of every screen: the shown key bindings and the command palette key, as one widget.

Textual's Footer mounts a widget per key and mounts them all again whenever the focus moves; this
draws the same line (same theme variables) from ``screen.active_bindings`` and only repaints. A click
on a key presses it.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget


class KeyFooter(Widget):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description", "key-footer--separator"}
    DEFAULT_CSS = """
    KeyFooter { dock: bottom; height: 1; width: 1fr; color: $footer-foreground; background: $footer-background; }
    KeyFooter > .key-footer--key {
        color: $footer-key-foreground; background: $footer-key-background; text-style: bold;
    }
    KeyFooter > .key-footer--description {
        color: $footer-description-foreground; background: $footer-description-background;
    }
    KeyFooter > .key-footer--separator { color: $foreground 20%; }
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self._spans: list[tuple[int, int, str]] = []  # (x start, x end, key) of each drawn key

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        self.refresh()

    def _keys(self) -> tuple[list[tuple[str, str, str, bool]], tuple[str, str, str, bool] | None]:
        """(key, shown key, description, enabled) of the shown bindings (one per action), and the palette's."""
        keys, actions, palette = [], set(), None
        for key, (_node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            item = (binding.key, self.app.get_key_display(binding), binding.description, enabled)
            if key == self.app.COMMAND_PALETTE_BINDING and self.app.ENABLE_COMMAND_PALETTE:
                palette = item
            elif binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append(item)
        return keys, palette

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y:
            return Strip.blank(width, base)
        key_style = base + self.get_component_rich_style("key-footer--key")
        text_style = base + self.get_component_rich_style("key-footer--description")
        separator = base + self.get_component_rich_style("key-footer--separator")
        keys, palette = self._keys()
        right: list[Segment] = []
        if palette:
            right = [
                Segment("▏", separator),
                Segment(palette[1], key_style),
                Segment(f" {palette[2]}", text_style),
                Segment(" ", base),
            ]
        room = width - sum(cell_len(s.text) for s in right)
        segments, spans, x = [], [], 0
        for key, shown, description, enabled in keys:
            dim = Style(dim=not enabled)
            parts = [Segment(f" {shown} ", key_style + dim), Segment(f"{description} ", text_style + dim)]
            length = sum(cell_len(s.text) for s in parts)
            spans.append((x, x + length, key))
            segments += parts
            x += length
        if palette:
            spans.append((room, width, palette[0]))
        self._spans = spans
        left = Strip(segments).crop(0, max(room, 0)).extend_cell_length(max(room, 0), base)
        return Strip([*left, *right]).crop(0, width)

    def on_click(self, event) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key.split(",")[0])
                return
