# Alarm conditions with IEC 60601-1-8 priorities. A condition alarm clears itself
# when its condition is gone; acknowledging only silences it. A latched alarm
# (an event the technician must see: a restart, an expired refill window) stays
# until acknowledged.

HIGH = "HIGH"
MEDIUM = "MEDIUM"
LOW = "LOW"
INFO = "INFO"

# code: (priority, latched, what the technician reads)
CATALOGUE = {
    "RES_EMPTY": (HIGH, False, "reservoir empty: delivery stopped"),
    "RES_LOW": (MEDIUM, False, "reservoir low: refill now"),
    "REFILL_OVERDUE": (MEDIUM, False, "refill interval exceeded: drug past its stability limit"),
    "REFILL_WINDOW": (HIGH, True, "refill window expired: previous therapy resumed unchanged"),
    "RESTARTED": (MEDIUM, True, "pump restarted and resumed therapy"),
    "THERAPY_STOPPED": (MEDIUM, False, "therapy stopped: the patient receives no drug"),
    "THERAPY_PAUSED": (LOW, False, "therapy paused"),
    "MEMORY": (HIGH, True, "stored therapy state corrupted: verify and reprogram"),
    "OVER_DELIVERY": (HIGH, True, "over-delivery detected: motor stopped, technician reset needed"),
    "STALL": (HIGH, False, "motor stall: no delivery"),
    "OCCLUSION": (HIGH, False, "line occlusion: no delivery"),
    "CONC_MISMATCH": (HIGH, False, "reservoir concentration differs from the programme: reprogram"),
}


class Alarms:
    def __init__(self, notify):
        self.notify = notify  # notify(kind, pairs): pushes an unsolicited line
        self.active = []  # dicts, oldest first
        self.next_id = 1

    def find(self, code):
        for a in self.active:
            if a["code"] == code:
                return a
        return None

    def raise_(self, code, when, detail=""):
        """Raise `code` if not already active; returns the alarm record."""
        a = self.find(code)
        if a is not None:
            return a
        prio, latched, text = CATALOGUE[code]
        a = {
            "id": self.next_id,
            "code": code,
            "prio": prio,
            "latched": latched,
            "since": when,
            "acked": False,
            "holds": True,
            "text": text,
            "detail": detail,
        }
        self.next_id += 1
        self.active.append(a)
        self.notify("ALARM", self.describe(a, "RAISED"))
        return a

    def clear(self, code):
        """The condition behind `code` is gone."""
        a = self.find(code)
        if a is None:
            return
        a["holds"] = False
        if not a["latched"]:
            self.active.remove(a)
            self.notify("ALARM", self.describe(a, "CLEARED"))

    def ack(self, alarm_id):
        """Silence alarm `alarm_id`; a latched one whose event is over is cleared."""
        for a in self.active:
            if a["id"] == alarm_id:
                a["acked"] = True
                if a["latched"]:
                    self.active.remove(a)
                    self.notify("ALARM", self.describe(a, "CLEARED"))
                return a
        return None

    def codes(self):
        return [a["code"] for a in self.active]

    def describe(self, a, event=None):
        pairs = [("id", a["id"]), ("code", a["code"]), ("prio", a["prio"])]
        if event:
            pairs.append(("event", event))
        pairs.append(("acked", 1 if a["acked"] else 0))
        pairs.append(("since", a["since"]))
        pairs.append(("msg", a["text"]))
        if a["detail"]:
            pairs.append(("detail", a["detail"]))
        return pairs

    def snapshot(self):
        return {"next_id": self.next_id, "active": self.active}

    def restore(self, snap):
        self.next_id = snap["next_id"]
        self.active = snap["active"]
