"""Signed checkpoints of the access log, kept outside the database.

The hash chain shows an edited or removed row only while a later row still follows it: whoever can
switch the append-only triggers off can cut the newest rows, or all of them, and leave a chain that
is whole. A checkpoint (the last row's sequence and hash, and when it was taken) written somewhere
the database's owner cannot reach closes that gap up to the checkpoint: `AccessLog.verify` then
insists that the row it names is still there, unchanged. Each checkpoint is an HMAC under a key
derived from the shop's secret key, so one cannot be forged or edited without it.

The same file records each cut the log's own retention makes at its oldest end (`Cut`): the last row
removed and its hash, signed the same way. The oldest row left then follows that cut instead of the
beginning of the chain, so a log cut after three years still verifies, and a row removed from its start
any other way still shows.

The file holds one JSON object a line, appended to, never rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..storage.durable_append import append_lines

FORMAT = "shop-privacy/access-log-checkpoint/1"
CUT_FORMAT = "shop-privacy/access-log-cut/1"
FILE_NAME = "access-log-checkpoints.jsonl"  # inside a directory named instead of a file
# Operators name the file here (cron) or with `--file`/`--checkpoint`.
ENVIRONMENT_VARIABLE = "SHOP_PRIVACY_AUDIT_CHECKPOINT_FILE"


class CheckpointFileError(Exception):
    """The checkpoint file cannot be read or written: nothing can be said about the log from it."""


@dataclass(frozen=True)
class Checkpoint:
    sequence: int  # the last row's; 0 for an empty log
    row_hash: str
    taken_at: datetime
    signature: str = ""
    line: int = 0  # where it was read from, for messages

    def describe(self) -> str:
        return f"checkpoint of {self.taken_at.isoformat(timespec='seconds')} (row {self.sequence})"


@dataclass(frozen=True)
class Cut:
    """The retention sweep removed the log's rows up to `through` (inclusive), those recorded before
    `before`; `row_hash` is the hash of row `through`, which the oldest row left names as its previous."""

    through: int
    row_hash: str
    before: datetime
    taken_at: datetime
    signature: str = ""
    line: int = 0

    def describe(self) -> str:
        return (f"cut of {self.taken_at.isoformat(timespec='seconds')} (rows up to {self.through}, "
                f"recorded before {self.before.isoformat(timespec='seconds')})")


@dataclass(frozen=True)
class CheckpointFile:
    """What a checkpoint file holds: the checkpoints signed with this shop's key and the lines that are not."""

    path: Path
    valid: tuple[Checkpoint, ...]
    forged_lines: tuple[int, ...]
    cuts: tuple[Cut, ...] = ()  # signed with this shop's key

    @property
    def empty(self) -> bool:
        return not self.valid and not self.forged_lines and not self.cuts

    @property
    def newest(self) -> Checkpoint | None:
        """The furthest-reaching checkpoint: the highest sequence, then the latest time."""
        return max(self.valid, key=lambda c: (c.sequence, c.taken_at), default=None)

    def cut_through(self, sequence: int) -> Cut | None:
        """The retention cut that removed the rows up to `sequence`, if one did."""
        return next((c for c in self.cuts if c.through == sequence), None)


class CheckpointKey:
    """Signs and checks checkpoints. Its own key (not the chain's), derived from the secret key."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(f"access-log-checkpoint:{secret}".encode()).digest()

    def _mac(self, sequence: int, row_hash: str, taken_at: datetime) -> str:
        content = json.dumps([FORMAT, sequence, row_hash, taken_at.astimezone(UTC).isoformat()],
                             separators=(",", ":"))
        return hmac.new(self._key, content.encode(), hashlib.sha256).hexdigest()

    def sign(self, sequence: int, row_hash: str, taken_at: datetime) -> Checkpoint:
        return Checkpoint(sequence, row_hash, taken_at, self._mac(sequence, row_hash, taken_at))

    def is_genuine(self, checkpoint: Checkpoint | Cut) -> bool:
        if isinstance(checkpoint, Cut):
            expected = self._cut_mac(checkpoint.through, checkpoint.row_hash, checkpoint.before, checkpoint.taken_at)
        else:
            expected = self._mac(checkpoint.sequence, checkpoint.row_hash, checkpoint.taken_at)
        return hmac.compare_digest(expected, checkpoint.signature)

    def _cut_mac(self, through: int, row_hash: str, before: datetime, taken_at: datetime) -> str:
        content = json.dumps([CUT_FORMAT, through, row_hash, before.astimezone(UTC).isoformat(),
                              taken_at.astimezone(UTC).isoformat()], separators=(",", ":"))
        return hmac.new(self._key, content.encode(), hashlib.sha256).hexdigest()

    def sign_cut(self, through: int, row_hash: str, before: datetime, taken_at: datetime) -> Cut:
        return Cut(through, row_hash, before, taken_at, self._cut_mac(through, row_hash, before, taken_at))


def resolve(path: Path) -> Path:
    """A directory stands for the checkpoint file inside it."""
    return path / FILE_NAME if path.is_dir() else path


def _moment(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment


def _parse(text: str, line: int) -> Checkpoint | Cut:
    """One line; anything that is not a checkpoint's (or a cut's) shape makes the file unreadable."""
    try:
        record = json.loads(text)
        if isinstance(record, dict) and record.get("format") == CUT_FORMAT:
            through, row_hash, signature = record["through"], record["hash"], record["signature"]
            if not (isinstance(through, int) and not isinstance(through, bool) and through > 0
                    and isinstance(row_hash, str) and isinstance(signature, str)):
                raise ValueError("not a cut")
            return Cut(through, row_hash, _moment(record["before"]), _moment(record["at"]), signature, line)
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise ValueError("not a checkpoint")
        sequence, row_hash, signature = record["sequence"], record["hash"], record["signature"]
        if not (isinstance(sequence, int) and not isinstance(sequence, bool) and sequence >= 0
                and isinstance(row_hash, str) and isinstance(signature, str)):
            raise ValueError("not a checkpoint")
        taken_at = datetime.fromisoformat(record["at"])
        if taken_at.tzinfo is None:
            raise ValueError("no time zone")
    except (ValueError, KeyError, TypeError) as error:
        raise CheckpointFileError(f"line {line} is not a checkpoint ({error})") from None
    return Checkpoint(sequence, row_hash, taken_at, signature, line)


def read(path: Path, key: CheckpointKey, *, missing_ok: bool = False) -> CheckpointFile:
    """Every checkpoint in the file, sorted into those this shop's key signed and those it did not.
    `missing_ok`: a file not there yet holds none (before the first checkpoint is written)."""
    path = resolve(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        if missing_ok:
            return CheckpointFile(path, (), ())
        raise CheckpointFileError(f"cannot read {path}: no such file") from None
    except (OSError, UnicodeError) as error:
        raise CheckpointFileError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    valid: list[Checkpoint] = []
    cuts: list[Cut] = []
    forged: list[int] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        record = _parse(text, number)
        if not key.is_genuine(record):
            forged.append(record.line)
        elif isinstance(record, Cut):
            cuts.append(record)
        else:
            valid.append(record)
    return CheckpointFile(path, tuple(valid), tuple(forged), tuple(cuts))


def append(path: Path, checkpoint: Checkpoint | Cut) -> Path:
    """Adds one line, in one write to a file opened for appending (so two writers do not interleave),
    and waits until it is on disk: a checkpoint is only worth what survives a crash."""
    path = resolve(path)
    if isinstance(checkpoint, Cut):
        record: dict[str, object] = {
            "format": CUT_FORMAT, "through": checkpoint.through, "hash": checkpoint.row_hash,
            "before": checkpoint.before.astimezone(UTC).isoformat()}
    else:
        record = {"format": FORMAT, "sequence": checkpoint.sequence, "hash": checkpoint.row_hash}
    record.update({"at": checkpoint.taken_at.astimezone(UTC).isoformat(), "signature": checkpoint.signature})
    line = json.dumps(record, separators=(",", ":")) + "\n"
    try:
        append_lines(path, line)
    except OSError as error:
        raise CheckpointFileError(f"cannot write {path}: {error.strerror or error}") from None
    return path
