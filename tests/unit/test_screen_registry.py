"""still2tui/screens.py: one registry of screens from which the modes, the mode keys, the palette scope and
the help sections derive."""

from __future__ import annotations

import importlib

import pytest

from still2tui import screens
from still2tui.actions import ACTIONS


def test_every_registered_screen_exists_and_has_its_keys():
    for scope, entry in screens.SCREENS.items():
        cls = getattr(importlib.import_module(f"still2tui.components.{entry.module}"), entry.class_name)
        assert scope in ACTIONS, f"{scope}: no keys in the actions registry"
        assert {b.id for b in cls.BINDINGS} >= {a.id for a in ACTIONS[scope]}


def test_modes_keys_palette_and_help_derive_from_the_registry():
    from still2tui.app import Still2App
    from still2tui.components.help_screen import SCOPE_TITLES

    assert list(Still2App.MODES) == screens.modes() and screens.modes()[0] == "trajectories"
    switches = {a.id: a for a in ACTIONS["app"] if a.action.startswith("app.switch_mode")}
    assert {f"app.{m}" for m in screens.modes()} == set(switches)
    assert [switches[f"app.{m}"].keys for m in screens.modes()] == [str(i) for i in range(1, 8)]
    assert SCOPE_TITLES["sql"] == "SQL (6)" and SCOPE_TITLES["detail"] == "detail (enter)"

    class DetailScreen:  # the palette and help find a screen's scope by its class
        pass

    assert screens.scope_of(DetailScreen()) == "detail" and screens.scope_of(object()) is None


def test_a_taken_mode_key_is_refused():
    with pytest.raises(ValueError, match="taken"):
        screens.register_screen(screens.ScreenEntry("extra", "ExtraScreen", "extra_screen", "Extra", "1"))
    assert "extra" not in screens.SCREENS
