"""Synchronised scrolling: two scrollable widgets that keep the same vertical position (the pair panes)."""

from __future__ import annotations


def link_scroll(owner, first, second) -> None:
    """Whenever one of ``first``/``second`` scrolls vertically, scroll the other to the same line."""

    def follow(other):
        def scrolled(y: float) -> None:
            if round(other.scroll_y) != round(y):
                other.scroll_to(y=y, animate=False, immediate=True)

        return scrolled

    owner.watch(first, "scroll_y", follow(second), init=False)
    owner.watch(second, "scroll_y", follow(first), init=False)
