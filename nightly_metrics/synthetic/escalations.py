"""``chatwoot.escalations`` snapshots (legacy and modern format) and their corrupt elements."""

from __future__ import annotations

from typing import Any

from .copy_text import NULL, copy_json, copy_timestamp, iso_utc
from .shapes import OFFSETS_MIN, SQLISH
from .shops import Conversation, Shop
from .state import GeneratorState


class EscalationSnapshots(GeneratorState):
    """Writes the snapshot of a shop's open conversations at one time of a day."""

    def _spell_breached_at(self, cv: Conversation) -> str:
        u = self.r()
        if u < 0.60:
            return cv.b_iso + ".000Z"
        if u < 0.75:
            return cv.b_iso + "Z"
        if u < 0.85:
            return cv.b_iso  # no offset: UTC
        off = OFFSETS_MIN[int(self.r() * len(OFFSETS_MIN))]
        assert cv.breach is not None
        local = iso_utc(cv.breach + off * 60)
        sign = "+" if off >= 0 else "-"
        frac = ".000" if self.r() < 0.5 else ""
        return f"{local}{frac}{sign}{abs(off) // 60:02d}:{abs(off) % 60:02d}"

    def _snapshot(self, shop: Shop, t_s: int, ms: int, day: int, legacy: bool) -> str | None:
        """COPY text of the shop's snapshot at t_s, or None when no open conversation breached."""
        open_ = self._open_conversations(shop, t_s)
        if open_ is None:
            return None
        r = self.r
        value, breaches = self._elements(shop, open_, t_s, legacy)
        n_elements = len(value) + len(breaches)
        self.counts["escalation_elements"] += n_elements
        metadata: dict[str, Any] = {"slaMinutes": shop.sla}
        if not legacy:
            metadata["breaches"] = breaches
        if r() < self.scale.corrupt_fraction * n_elements:
            self._corrupt(value, metadata, legacy, open_, t_s)
        self.counts["escalation_snapshots"] += 1
        if legacy:
            self.counts["escalation_snapshots_legacy"] += 1
        created = copy_timestamp(self.prefixes[day], ms)
        evidence = (
            f"https://app.chatwoot.com/app/accounts/{shop.account}/conversations"
            if r() < 0.5
            else NULL
        )
        return (
            f"{shop.domain}\tchatwoot.escalations\tchatwoot\t{copy_json(value)}\t"
            f"{copy_json(metadata)}\t{evidence}\t{created}\t{created}\n"
        )

    @staticmethod
    def _open_conversations(shop: Shop, t_s: int) -> list[Conversation] | None:
        """The shop's conversations open at t_s (closed ones are forgotten), or None
        when none of them has breached (no snapshot then)."""
        convs = shop.convs
        if not convs:
            return None
        if any(cv.close <= t_s for cv in convs):
            convs = shop.convs = [cv for cv in convs if cv.close > t_s]
        open_ = [cv for cv in convs if cv.created <= t_s]
        if not any(cv.breach is not None and cv.breach <= t_s for cv in open_):
            return None
        return open_

    def _elements(
        self, shop: Shop, open_: list[Conversation], t_s: int, legacy: bool
    ) -> tuple[list[Any], list[Any]]:
        """The snapshot's value array and (modern format) its metadata.breaches list."""
        r = self.r
        value: list[Any] = []
        breaches: list[Any] = []
        for cv in open_:
            is_b = cv.breach is not None and cv.breach <= t_s
            if legacy:
                el = _legacy_element(cv, is_b)
            else:
                el = {
                    "id": cv.cid,
                    "status": cv.status,
                    "slaBreached": is_b,
                    "inboxId": shop.inbox,
                    "createdAt": cv.c_iso + ".000Z",
                    "lastMessageAt": iso_utc(min(cv.created + cv.lm_off, t_s)) + ".000Z",
                }
                if is_b:
                    breaches.append(
                        {
                            "conversationId": cv.cid if r() < 0.85 else str(cv.cid),
                            "breachedAt": self._spell_breached_at(cv),
                        }
                    )
            if is_b:
                self._seen_breach.add(cv.cid)
            value.append(el)
        return value, breaches

    def _corrupt(
        self,
        value: list[Any],
        metadata: dict[str, Any],
        legacy: bool,
        open_: list[Conversation],
        t_s: int,
    ) -> None:
        """Append one element that the metric must reject (or break metadata.breaches)."""
        r = self.r
        cv = open_[int(r() * len(open_))]
        kinds = 8 if legacy else 13
        kind = int(r() * kinds)
        if kind >= 8:
            self._corrupt_breaches(metadata, cv, kind, t_s)
            return
        rejected = _rejected_value_element(cv, kind)
        value.append(rejected)
        # A value element that is not an object has no `slaBreached: true`: the
        # contract makes it no breach, and no rejected one either.
        if isinstance(rejected, dict):
            self.counts["corrupt_elements"] += 1
        else:
            self.counts["ignored_value_elements"] += 1

    def _corrupt_breaches(
        self, metadata: dict[str, Any], cv: Conversation, kind: int, t_s: int
    ) -> None:
        """Kind 8 makes metadata.breaches an object; kinds 9-12 append a rejected element."""
        if kind == 8:
            metadata["breaches"] = {"oops": 1}
            self.counts["malformed_breaches_fields"] += 1
            return
        b_iso = iso_utc(cv.breach if cv.breach is not None else t_s) + ".000Z"
        rejected: dict[str, Any]
        if kind == 9:
            rejected = {"conversationId": cv.cid, "breachedAt": "not-a-date"}
        elif kind == 10:
            rejected = {"conversationId": SQLISH, "breachedAt": b_iso}
        elif kind == 11:
            rejected = {"conversationId": cv.cid}
        else:
            rejected = {"conversationId": cv.cid, "breachedAt": "1969-12-31T23:59:59Z"}
        metadata["breaches"].append(rejected)
        self.counts["corrupt_elements"] += 1


def _legacy_element(cv: Conversation, is_b: bool) -> dict[str, Any]:
    """A legacy-format value element: one of three spellings of when it started."""
    el: dict[str, Any] = {"id": cv.cid, "status": cv.status, "slaBreached": is_b}
    if cv.legacy_kind == 0:
        el["createdAt"] = cv.c_iso + ".000Z"
    elif cv.legacy_kind == 1:
        el["lastMessageAt"] = cv.c_iso + ".000Z"
    else:
        el["created_at"] = cv.created
    return el


def _rejected_value_element(cv: Conversation, kind: int) -> Any:
    """Corrupt value element of kind 0-7 (a string, a bad id, no or a bad time...)."""
    c_iso = cv.c_iso + ".000Z"
    if kind == 0:
        return f"conversation #{cv.cid} (unserializable)"
    if kind == 1:
        return {"id": 12.5, "status": "open", "slaBreached": True, "createdAt": c_iso}
    if kind == 2:
        return {"id": -cv.cid, "status": "open", "slaBreached": True, "createdAt": c_iso}
    if kind == 3:
        return {"id": cv.cid, "status": "open", "slaBreached": True}  # no time at all
    if kind == 4:
        return {"id": cv.cid, "status": "open", "slaBreached": True, "createdAt": "not-a-date"}
    if kind == 5:
        return SQLISH
    if kind == 6:
        # A year far beyond 9999.
        return {
            "id": cv.cid,
            "status": "open",
            "slaBreached": True,
            "created_at": 99_999_999_999_999,
        }
    return {"id": SQLISH, "status": "open", "slaBreached": True, "createdAt": c_iso}
