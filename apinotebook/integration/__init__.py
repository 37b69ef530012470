"""Integrations: sources, mapping, destinations, triggers, state, dead letters, reports.

An API is the messenger; an integration is the finished bridge built with
it. :class:`Integration` connects a source to a destination through a
mapping, keeps its state in SQLite (or PostgreSQL, shared by several
machines), runs manually, on a schedule or from a
webhook, and reports what it did. Everything here runs without Jupyter.
"""

from apinotebook._core.signing import SIGNATURE_HEADER, SignatureError, signature_header
from apinotebook._core.signing import verify as verify_signature
from apinotebook.integration._chunks import merge_reports, run_in_chunks
from apinotebook.integration._integration import Integration
from apinotebook.integration._partitions import Partition, date_windows, id_ranges
from apinotebook.integration._pipeline import Batch, classify
from apinotebook.integration._recipe import from_recipe
from apinotebook.integration._report import DryRunReport, DryRunRow, RunReport
from apinotebook.integration._schedule import Scheduler, parse_interval
from apinotebook.integration._stages import Extracted, Mapped
from apinotebook.integration._state import DeadLetter, StateStore
from apinotebook.integration._webhook import WebhookReceiver

__all__ = [
    "Batch",
    "DeadLetter",
    "DryRunReport",
    "DryRunRow",
    "Extracted",
    "Integration",
    "Mapped",
    "Partition",
    "RunReport",
    "SIGNATURE_HEADER",
    "Scheduler",
    "SignatureError",
    "StateStore",
    "WebhookReceiver",
    "classify",
    "date_windows",
    "from_recipe",
    "id_ranges",
    "merge_reports",
    "parse_interval",
    "run_in_chunks",
    "signature_header",
    "verify_signature",
]
