"""The device registry the link authenticates boards against."""

from __future__ import annotations

import pytest

from gateway.store.devices import (
    DeviceError,
    device_key,
    list_devices,
    register_device,
    revoke_device,
)


def test_register_lookup_revoke(db):
    register_device("sim-1", "sim", "ab" * 32, name="front")
    assert device_key("sim-1") == bytes.fromhex("ab" * 32)
    assert device_key("nobody") is None
    revoke_device("sim-1")
    assert device_key("sim-1") is None
    register_device("sim-1", "sim", "cd" * 32)  # re-provisioning re-keys and un-revokes
    assert device_key("sim-1") == bytes.fromhex("cd" * 32)
    listed = list_devices()
    assert [d["board_id"] for d in listed] == ["sim-1"] and "key_hex" not in listed[0]
    assert listed[0]["name"] == "front"


@pytest.mark.parametrize("args, match", [
    (("bad id!", "sim", "ab" * 32), "board id"),
    (("b", "toaster", "ab" * 32), "board type"),
    (("b", "sim", "xyz"), "hexadecimal"),
    (("b", "sim", "ab" * 4), "too short"),
])
def test_bad_registrations_are_refused(db, args, match):
    with pytest.raises(DeviceError, match=match):
        register_device(*args)


def test_revoking_an_unknown_board_says_so(db):
    with pytest.raises(DeviceError, match="no board"):
        revoke_device("ghost")
