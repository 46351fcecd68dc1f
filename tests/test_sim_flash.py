"""Flash filesystem of the simulated MCU: semantics, disk mirror, torn writes."""

import errno

import pytest

from pumpsim.flash import Flash


def test_write_read_rename_remove(tmp_path):
    flash = Flash(tmp_path)
    assert flash.read("state") is None
    flash.write("state.tmp", b"abc")
    flash.rename("state.tmp", "state")
    assert flash.read("state") == b"abc" and flash.read("state.tmp") is None
    flash.write("state", bytearray(b"new"))
    assert flash.read("state") == b"new"
    flash.remove("state")
    flash.remove("state")  # absent: no error
    assert flash.names() == []


def test_contents_are_mirrored_and_reloaded(tmp_path):
    flash = Flash(tmp_path)
    flash.write("a", b"1")
    flash.write("b", b"2")
    flash.rename("b", "a")
    assert (tmp_path / "a").read_bytes() == b"2" and not (tmp_path / "b").exists()
    assert Flash(tmp_path).read("a") == b"2"


def test_rename_of_missing_file_is_enoent_and_changes_nothing(tmp_path):
    flash = Flash(tmp_path)
    flash.write("dst", b"keep")
    with pytest.raises(OSError) as err:
        flash.rename("src", "dst")
    assert err.value.errno == errno.ENOENT
    assert flash.read("dst") == b"keep"


@pytest.mark.parametrize("name", ["", "a/b", "..", ".", "x\0", "n" * 65, 3, None])
def test_bad_names_are_refused(tmp_path, name):
    flash = Flash(tmp_path)
    with pytest.raises(ValueError):
        flash.write(name, b"x")
    assert flash.names() == []


def test_data_must_be_bytes(tmp_path):
    with pytest.raises(TypeError):
        Flash(tmp_path).write("a", "text")


def test_full_flash_refuses_and_keeps_old_content(tmp_path):
    flash = Flash(tmp_path, capacity=10)
    flash.write("a", b"12345")
    with pytest.raises(OSError) as err:
        flash.write("b", b"123456")
    assert err.value.errno == errno.ENOSPC
    assert flash.read("b") is None
    flash.write("a", b"1234567890")  # replacing frees the old content first
    assert flash.read("a") == b"1234567890"


def test_armed_tear_leaves_a_truncated_file_once(tmp_path):
    flash = Flash(tmp_path)
    flash.write("state", b"old content")
    flash.arm_tear(3)
    assert flash.write("state", b"new content") is False
    assert flash.read("state") == b"new"
    assert (tmp_path / "state").read_bytes() == b"new"
    assert flash.write("state", b"whole") is True
    assert flash.read("state") == b"whole"


def test_append_creates_extends_and_can_tear(tmp_path):
    flash = Flash(tmp_path)
    assert flash.append("log", b"one\n") is True
    assert flash.append("log", b"two\n") is True
    assert flash.read("log") == b"one\ntwo\n"
    flash.arm_tear(2)
    assert flash.append("log", b"three\n") is False
    assert flash.read("log") == b"one\ntwo\nth"
    assert (tmp_path / "log").read_bytes() == b"one\ntwo\nth"
