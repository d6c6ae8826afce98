"""The interactive console: a plain line prompt (stdlib `cmd`), fine over SSH.

After each command it prints the board's log lines that arrived meanwhile;
`watch` shows status and log lines live until Ctrl-C.
"""

from __future__ import annotations

import cmd
import sys

from gateway.errors import AlprError
from tools.console.actions import HELP, Console, format_log


class ConsoleShell(cmd.Cmd):
    intro = ("alpr console: type `help` for the commands, `quit` to leave. "
             "Board log lines appear after each command; `watch` follows them live.")

    def __init__(self, console: Console):
        super().__init__()
        self.console = console
        self.prompt = f"{console.session.board_id or 'board'}> "

    def default(self, line: str):
        try:
            _result, text = self.console.run_line(line)
        except AlprError as exc:
            print(f"error: {exc}")
            return False
        except KeyboardInterrupt:
            print("interrupted")
            return False
        if text:
            print(text)
        return self.console.stop_after_repl

    def postcmd(self, stop, line):
        if not self.console.stop_after_repl:
            for entry in self.console.new_log_lines():
                print(format_log(entry))
        return stop

    def emptyline(self):
        return False

    def do_help(self, arg):
        print("\n".join(HELP.values()) + "\nquit                   leave the console")

    def do_quit(self, arg):
        return True

    do_exit = do_quit

    def do_EOF(self, arg):  # noqa: N802 - the name cmd.Cmd calls on end of input
        print()
        return True


def confirm_on_terminal(question: str) -> bool:
    sys.stdout.write(question)
    sys.stdout.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")
