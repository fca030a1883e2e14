"""Binding screen: StorageClasses, then every claim beside the volume it is bound to (or why not)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from kstor.tui.rows import Age, ObjRef, Row
from kstor.tui.views.common import DIM, NAME, columns, created, meta, section_row, title_row, tone, widths
from kstor.tui.views.table import FittedTable

SC_TITLES = ("NAME", "PROVISIONER", "BINDING MODE", "RECLAIM", "DEFAULT", "AGE")
CHAIN_TITLES = ("CLAIM", "STATUS", "", "VOLUME", "STATUS", "CAPACITY", "ACCESS", "CLASS", "AGE", "WHY")
BETA_CLASS = "volume.beta.kubernetes.io/storage-class"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}

# Why a claim is not bound, given the claim and its newest events: (reason, message) or None.
WhyFn = Callable[[dict[str, Any]], str]


def claim_class(obj: dict[str, Any]) -> str:
    """The class a PV/PVC asks for (the beta annotation wins, as in the PV controller)."""
    ann = meta(obj).get("annotations") or {}
    return ann.get(BETA_CLASS) or (obj.get("spec") or {}).get("storageClassName") or ""


def access(obj: dict[str, Any]) -> str:
    modes = (obj.get("status") or {}).get("accessModes") or (obj.get("spec") or {}).get("accessModes") or []
    return ",".join(_MODES.get(m, m) for m in modes)


def pv_phase(pv: dict[str, Any]) -> str:
    if meta(pv).get("deletionTimestamp"):
        return "Terminating"
    return (pv.get("status") or {}).get("phase") or "Pending"


def pvc_phase(pvc: dict[str, Any]) -> str:
    if meta(pvc).get("deletionTimestamp"):
        return "Terminating"
    return (pvc.get("status") or {}).get("phase") or "Pending"


def storage_class_rows(classes: Iterable[dict[str, Any]]) -> list[Row]:
    items = sorted(classes, key=lambda o: meta(o).get("name", ""))
    cells = [
        (
            meta(sc).get("name", ""),
            sc.get("provisioner", ""),
            sc.get("volumeBindingMode") or "Immediate",
            sc.get("reclaimPolicy") or "Delete",
            "yes" if (meta(sc).get("annotations") or {}).get(DEFAULT_CLASS) == "true" else "",
        )
        for sc in items
    ]
    ws = [*widths(cells, caps=(40, 50, 20, 8, 7), minimum=(4, 11, 12, 7, 7)), 5]
    rows = [
        section_row("binding/sc", f"StorageClasses ({len(items)})", group="sc"),
        title_row("binding/sc-title", SC_TITLES, ws, group="sc"),
    ]
    for sc, c in zip(items, cells, strict=True):
        segs = columns(
            [(c[0], NAME), (c[1], ""), (c[2], ""), (c[3], ""), (c[4], "green"), Age(created(sc))], ws
        )
        rows.append(
            Row(
                key=f"sc/{c[0]}",
                segments=segs,
                ref=ObjRef("StorageClass", c[0]),
                obj=sc,
                search=" ".join(c).lower(),
                group="sc",
            )
        )
    return rows


def claim_cells(pvc: dict[str, Any], pv: dict[str, Any] | None, *, reason: str) -> tuple[str, ...]:
    pv_name = (pvc.get("spec") or {}).get("volumeName") or ""
    cap = ((pvc.get("status") or {}).get("capacity") or {}).get("storage") or (
        ((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}
    ).get("storage", "")
    return (
        f"{meta(pvc).get('namespace')}/{meta(pvc).get('name')}",
        pvc_phase(pvc),
        "→" if pv_name else "",
        pv_name or "-",
        pv_phase(pv) if pv else ("missing" if pv_name else ""),
        cap,
        access(pvc),
        claim_class(pvc) or "-",
        reason,
    )


def volume_cells(pv: dict[str, Any]) -> tuple[str, ...]:
    ref = (pv.get("spec") or {}).get("claimRef") or {}
    held = f"{ref.get('namespace')}/{ref.get('name')} (gone)" if ref else ""
    cap = ((pv.get("spec") or {}).get("capacity") or {}).get("storage", "")
    name = meta(pv).get("name", "")
    return (
        "-",
        "",
        "",
        name,
        pv_phase(pv),
        cap,
        access(pv),
        claim_class(pv) or "-",
        f"claimRef {held}" if held else "",
    )


def chain_row(
    pvc: dict[str, Any] | None, pv: dict[str, Any] | None, *, c: tuple[str, ...], ws: list[int]
) -> Row:
    obj, kind = (pvc, "PersistentVolumeClaim") if pvc is not None else (pv, "PersistentVolume")
    assert obj is not None
    segs = columns(
        [
            (c[0], NAME if pvc else DIM),
            (c[1], tone(c[1]) if c[1] else ""),
            (c[2], DIM),
            (c[3], NAME if pv else DIM),
            (c[4], tone(c[4]) if c[4] else ""),
            (c[5], ""),
            (c[6], ""),
            (c[7], ""),
            Age(created(obj)),
            (c[8], "yellow"),
        ],
        ws,
    )
    m = meta(obj)
    return Row(
        key=f"{kind}/{m.get('namespace')}/{m.get('name')}",
        segments=segs,
        ref=ObjRef(kind, m.get("name", ""), m.get("namespace")),
        obj=obj,
        namespace=m.get("namespace"),
        search=" ".join(c).lower(),
        group="chain",
    )


ChainInputs = tuple[dict[str, Any] | None, dict[str, Any] | None, str]  # (claim, its volume, why Pending)
CHAIN_CAPS, CHAIN_MIN = (48, 11, 1, 44, 11, 8, 9, 28), (5, 6, 1, 6, 6, 8, 6, 5)


def _same_inputs(a: ChainInputs, b: ChainInputs) -> bool:
    return a[0] is b[0] and a[1] is b[1] and a[2] == b[2]


def _chain_cells(inputs: ChainInputs) -> list[tuple[str, ...]]:
    pvc, pv, reason = inputs
    if pvc is None:
        assert pv is not None
        return [volume_cells(pv)]
    return [claim_cells(pvc, pv, reason=reason)]


def _chain_build(inputs: ChainInputs, table: list[tuple[str, ...]], ws: list[int]) -> list[Row]:
    return [chain_row(inputs[0], inputs[1], c=table[0], ws=ws)]


def _chain_order(inputs: ChainInputs) -> tuple[int, str, str]:
    pvc, pv, _ = inputs
    if pvc is not None:
        return (0, meta(pvc).get("namespace", ""), meta(pvc).get("name", ""))
    return (1, "", meta(pv).get("name", "") if pv is not None else "")


class ChainView:
    """Claims beside their volumes, then the volumes no claim names. Each row is kept while its claim, its
    volume and its WHY are the same (the Store replaces an object on every change), so a frame after one
    change on a 10,000-claim cluster costs a pass of lookups, not a rebuild (see FittedTable)."""

    def __init__(self) -> None:
        self._table = FittedTable(
            cells=_chain_cells,
            build=_chain_build,
            order=_chain_order,
            caps=CHAIN_CAPS,
            minimum=CHAIN_MIN,
            extra=(5, 160),
            same=_same_inputs,
        )
        # Kept between calls for `update`: entries by ("pvc", ns, name) / ("pv", "", name); the volume
        # each claim names and the claims naming each volume (a volume no claim names has its own row).
        self._entries: dict[Hashable, ChainInputs] = {}
        self._claims: Mapping[tuple[str, str], dict[str, Any]] = {}
        self._pvs: dict[str, dict[str, Any]] = {}
        self._claim_pv: dict[tuple[str, str], str] = {}
        self._refs: dict[str, set[tuple[str, str]]] | None = None

    def rows(
        self, claims: Iterable[dict[str, Any]], volumes: Iterable[dict[str, Any]], *, why: WhyFn
    ) -> list[Row]:
        """Every claim and volume looked at (see `update` for a frame that knows what changed)."""
        self._pvs = {meta(v).get("name", ""): v for v in volumes}
        self._claims = {}
        self._entries, self._claim_pv, self._refs = {}, {}, {}
        for pvc in claims:
            m = meta(pvc)
            self._claims[(m.get("namespace") or "", m.get("name") or "")] = pvc
        for key, pvc in self._claims.items():
            self._set_claim(key, pvc, why)
        for name in self._pvs:
            self._set_volume(name)
        return self._render(None)

    def update(
        self,
        claims: Mapping[tuple[str, str], dict[str, Any]],
        volumes: Iterable[dict[str, Any]],
        *,
        why: WhyFn,
        claim_keys: Iterable[tuple[str, str]],
        volume_names: Iterable[str],
    ) -> list[Row]:
        """Like `rows`, when only the claims at `claim_keys` (their object or their WHY) and the volumes
        named `volume_names` may have changed since the last call."""
        if self._refs is None:
            return self.rows(claims.values(), volumes, why=why)
        self._pvs = {meta(v).get("name", ""): v for v in volumes}
        self._claims = claims
        dirty: set[Hashable] = set()
        names = set(volume_names)
        for key in set(claim_keys):
            old_name = self._claim_pv.pop(key, None)
            if old_name is not None:
                self._unref(old_name, key)
                names.add(old_name)
            pvc = claims.get(key)
            dirty.add(("pvc", *key))
            if pvc is None:
                self._entries.pop(("pvc", *key), None)
            else:
                names.add(self._set_claim(key, pvc, why))
        names.discard("")  # claims naming no volume: no volume of that name can come or go
        for name in names:
            for key in self._refs.get(name, ()):
                pvc, _, reason = self._entries[("pvc", *key)]
                self._entries[("pvc", *key)] = (pvc, self._pvs.get(name), reason)
                dirty.add(("pvc", *key))
            self._set_volume(name)
            dirty.add(("pv", "", name))
        return self._render(dirty)

    def _set_claim(self, key: tuple[str, str], pvc: dict[str, Any], why: WhyFn) -> str:
        pv_name = (pvc.get("spec") or {}).get("volumeName") or ""
        assert self._refs is not None
        self._refs.setdefault(pv_name, set()).add(key)
        self._claim_pv[key] = pv_name
        reason = why(pvc) if pvc_phase(pvc) != "Bound" else ""
        self._entries[("pvc", *key)] = (pvc, self._pvs.get(pv_name), reason)
        return pv_name

    def _unref(self, name: str, key: tuple[str, str]) -> None:
        assert self._refs is not None
        refs = self._refs.get(name)
        if refs is not None:
            refs.discard(key)
            if not refs:
                del self._refs[name]

    def _set_volume(self, name: str) -> None:
        """A volume no claim names gets a row of its own."""
        pv = self._pvs.get(name)
        assert self._refs is not None
        if pv is not None and not self._refs.get(name):
            self._entries[("pv", "", name)] = (None, pv, "")
        else:
            self._entries.pop(("pv", "", name), None)

    def _render(self, dirty: set[Hashable] | None) -> list[Row]:
        body, ws = self._table.rows(self._entries, dirty=dirty)
        return [
            section_row(
                "binding/chain",
                f"Claims and volumes ({len(self._claims)} PVCs, {len(self._pvs)} PVs)",
                group="chain",
            ),
            title_row("binding/chain-title", CHAIN_TITLES, ws, group="chain"),
            *body,
        ]


def chain_rows(
    claims: Iterable[dict[str, Any]], volumes: Iterable[dict[str, Any]], *, why: WhyFn
) -> list[Row]:
    """One row per claim with its volume beside it, then the volumes no claim holds (uncached)."""
    return ChainView().rows(claims, volumes, why=why)
