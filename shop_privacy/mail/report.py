"""What `shop-privacy outbox run` and `outbox status` print about account mails: counts, ids and kinds,
never an address or a text."""

from __future__ import annotations

from .queue import FAILED, QUEUED, SENT, MailQueueStatus, MailRun


def run_line(run: MailRun) -> str:
    return f"account mails: sent {run.sent}, to retry {run.retried}, failed {run.failed}"


def status_lines(status: MailQueueStatus) -> list[str]:
    lines = [f"{'account mail':<18} {name:<10} {status.counts.get(name, 0):>7}" for name in (QUEUED, SENT, FAILED)]
    if status.oldest_queued_at is not None:
        lines.append(f"oldest queued account mail: {status.oldest_queued_at.isoformat(timespec='seconds')}")
    for mail in status.failed:
        lines.append(f"failed account mail {mail.id} kind={mail.kind} attempts={mail.attempts} "
                     f"error={mail.last_error or '-'} queued={mail.created_at.isoformat(timespec='seconds')}")
    return lines
