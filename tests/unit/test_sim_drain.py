"""The simulation's end: a board's counts are final only once it has stopped triggering."""

from tools.sim.session import _drain


class LossyLink:
    """A board whose first service_mode command is lost on the line, as noise can do."""

    def __init__(self):
        self.service = False
        self.sent: list[str] = []
        self.lost = 1

    def command(self, board_id, cmd, args=None, timeout=3.0):
        self.sent.append(cmd)
        if cmd == "service_mode":
            if self.lost:
                self.lost -= 1
                return None
            self.service = True
            return {"ok": True, "result": {"service": True}}
        state = "service" if self.service else "ok"
        return {"ok": True, "result": {"state": state, "queued": 0, "sending": False, "sent": 3}}


def test_a_lost_service_mode_command_is_sent_again_before_counts_are_final():
    link = LossyLink()
    final = _drain(link, ["sim-1"], drain_s=10.0)
    # idle between bursts but still triggering was not taken as final
    assert final["sim-1"]["state"] == "service"
    assert link.sent.count("service_mode") == 2
