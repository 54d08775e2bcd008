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
        convs = shop.convs
        if not convs:
            return None
        if any(cv.close <= t_s for cv in convs):
            convs = shop.convs = [cv for cv in convs if cv.close > t_s]
        open_ = [cv for cv in convs if cv.created <= t_s]
        if not any(cv.breach is not None and cv.breach <= t_s for cv in open_):
            return None
        r = self.r
        value: list[Any] = []
        breaches: list[Any] = []
        for cv in open_:
            is_b = cv.breach is not None and cv.breach <= t_s
            if legacy:
                el: dict[str, Any] = {"id": cv.cid, "status": cv.status, "slaBreached": is_b}
                if cv.legacy_kind == 0:
                    el["createdAt"] = cv.c_iso + ".000Z"
                elif cv.legacy_kind == 1:
                    el["lastMessageAt"] = cv.c_iso + ".000Z"
                else:
                    el["created_at"] = cv.created
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
        c_iso = cv.c_iso + ".000Z"
        kinds = 8 if legacy else 13
        kind = int(r() * kinds)
        rejected: Any
        if kind == 0:
            rejected = f"conversation #{cv.cid} (unserializable)"
        elif kind == 1:
            rejected = {"id": 12.5, "status": "open", "slaBreached": True, "createdAt": c_iso}
        elif kind == 2:
            rejected = {"id": -cv.cid, "status": "open", "slaBreached": True, "createdAt": c_iso}
        elif kind == 3:
            rejected = {"id": cv.cid, "status": "open", "slaBreached": True}  # no time at all
        elif kind == 4:
            rejected = {
                "id": cv.cid,
                "status": "open",
                "slaBreached": True,
                "createdAt": "not-a-date",
            }
        elif kind == 5:
            rejected = SQLISH
        elif kind == 6:
            rejected = {
                "id": cv.cid,
                "status": "open",
                "slaBreached": True,
                "created_at": 99_999_999_999_999,
            }  # year far beyond 9999
        elif kind == 7:
            rejected = {"id": SQLISH, "status": "open", "slaBreached": True, "createdAt": c_iso}
        else:
            breaches = metadata["breaches"]
            b_iso = iso_utc(cv.breach if cv.breach is not None else t_s) + ".000Z"
            if kind == 8:
                metadata["breaches"] = {"oops": 1}
                self.counts["malformed_breaches_fields"] += 1
                return
            if kind == 9:
                rejected = {"conversationId": cv.cid, "breachedAt": "not-a-date"}
            elif kind == 10:
                rejected = {"conversationId": SQLISH, "breachedAt": b_iso}
            elif kind == 11:
                rejected = {"conversationId": cv.cid}
            else:
                rejected = {"conversationId": cv.cid, "breachedAt": "1969-12-31T23:59:59Z"}
            breaches.append(rejected)
            self.counts["corrupt_elements"] += 1
            return
        value.append(rejected)
        # A value element that is not an object has no `slaBreached: true`: the
        # contract makes it no breach, and no rejected one either.
        if isinstance(rejected, dict):
            self.counts["corrupt_elements"] += 1
        else:
            self.counts["ignored_value_elements"] += 1
