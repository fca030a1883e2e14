"""The command palette (ctrl+p): switch screen, jump to any object, run a chaos action on one."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from kstor.tui.frame import SCREENS

if TYPE_CHECKING:
    from kstor.tui.app import KstorApp

MAX_OBJECT_HITS = 40


class KstorCommands(Provider):
    @property
    def kstor(self) -> KstorApp:
        return cast("KstorApp", self.app)

    def _screen_commands(self) -> list[tuple[str, object, str]]:
        return [
            (
                f"Switch to {name.capitalize()}",
                partial(self.kstor.action_show_screen, name),
                f"screen {i + 1}",
            )
            for i, name in enumerate(SCREENS)
        ]

    async def discover(self) -> Hits:
        for label, callback, help_text in self._screen_commands():
            yield DiscoveryHit(label, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, callback, help_text in self._screen_commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), callback, help=help_text)  # type: ignore[arg-type]
        app = self.kstor
        hits = 0
        seen: set[object] = set()
        for screen, row in app.object_refs():
            ref = row.ref
            if ref is None or (ref, screen) in seen:
                continue
            seen.add((ref, screen))
            label = f"Go to {ref.label()}"
            score = matcher.match(label)
            if score > 0:
                hits += 1
                yield Hit(
                    score,
                    matcher.highlight(label),
                    partial(app.jump_to, screen, row.key),
                    help=f"on the {screen.capitalize()} screen",
                )
            if app.chaos is not None and screen in ("nodes", "binding"):
                chaos_label = f"Chaos on {ref.label()}"
                chaos_score = matcher.match(chaos_label)
                if chaos_score > 0:
                    hits += 1
                    yield Hit(
                        chaos_score,
                        matcher.highlight(chaos_label),
                        partial(self._chaos, screen, row.key),
                        help="choose a chaos action for this object",
                    )
            if hits >= MAX_OBJECT_HITS:
                break

    def _chaos(self, screen: str, key: str) -> None:
        self.kstor.jump_to(screen, key)
        self.kstor.action_chaos()
