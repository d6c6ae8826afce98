# What goes onto a board's flash (mpremote cp / freezing): the firmware modules
# and the shared protocol package. Versions are per part; see board.FIRMWARE_VERSION.
metadata(description="ALPR camera trigger board firmware", version="0.1.0")

module("main.py")
module("board.py")
module("config.py")
module("capture.py")
module("trigger.py")
module("transport.py")
module("framepool.py")
module("status.py")
package("shared", base_path="..", files=["__init__.py", "cbor.py", "cobs.py", "framing.py",
                                         "hmac256.py", "messages.py", "transfer.py"])
