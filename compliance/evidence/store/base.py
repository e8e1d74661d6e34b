"""The evidence store's engine-neutral interface: what every stage may ask of the workspace database.

The workspace holds one database and a content-addressed locker (``locker/<aa>/<sha256>``: every ingested
file and attestation attachment, named by its SHA-256). The locker is plain files and is handled here; the
database is an engine's (:mod:`compliance.evidence.store.sqlite` is the one there is). Nothing outside this
package writes or reads SQL: ingest writes a file through :meth:`Store.write_file`, the assessment reads
tallies through :meth:`Store.tally_groups` and :meth:`Store.open_failures`, assessments and catalog
statements have their own methods.

Tamper evidence, without a key (engine-neutral, so defined here): every observation row stores
:func:`row_digest` of its fields; every file row stores the digest over its observations' digests and
:func:`chain_digest` over the previous file row.
"""

from __future__ import annotations

import hashlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, TypedDict

import orjson

from compliance.errors import NotFoundError, StoreError
from compliance.evidence.model import OBSERVATION_FIELDS, EvidenceFile, StoredFinding

#: The store's layout and meaning. 2: finding identities from the canonical subject (one identity per finding
#: across the JSON, SARIF, JUnit and CycloneDX outputs of one scan) and ``scan_time_source`` "given". 3: the
#: ``files`` row records how its file is known to be complete (``completeness``, after ``chain``); a schema 2
#: store is brought up to 3 in place (the column is added, its old rows keep NULL: not recorded).
SCHEMA_VERSION = 3
#: The oldest schema an engine brings up to :data:`SCHEMA_VERSION` in place (older ones made identities another way).
MIGRATES_FROM = 2
#: The statement that adds schema 3's column to a schema 2 ``files`` table (both engines).
ADD_COMPLETENESS = "ALTER TABLE files ADD COLUMN completeness TEXT"
GENESIS = "0" * 64

#: Observation columns, in table order (after ``id`` and ``file_id``), as digested.
OBS_COLUMNS: tuple[str, ...] = OBSERVATION_FIELDS
#: File columns, in table order (after ``id``; ``chain`` follows), as chained.
FILE_COLUMNS = (
    "sha256",
    "name",
    "format",
    "tool",
    "tool_version",
    "scan_time",
    "scan_time_source",
    "ingested_at",
    "bytes",
    "findings",
    "failed",
    "passed",
    "other",
    "mapped",
    "rows_digest",
)


def row_digest(obs_id: int, file_id: int, values: tuple[Any, ...]) -> str:
    """Digest of one observation row (its id, file and every field)."""
    return hashlib.sha256(orjson.dumps([obs_id, file_id, *values])).hexdigest()[:32]


def chain_digest(prev: str, file_values: tuple[Any, ...], completeness: str | None = None) -> str:
    """The chain digest of a file row: the previous row's and the row's :data:`FILE_COLUMNS` values, with its
    ``completeness`` when recorded (rows of a schema 2 store have none and keep the digest they were given)."""
    values = list(file_values) if completeness is None else [*file_values, completeness]
    return hashlib.sha256(prev.encode() + orjson.dumps(values)).hexdigest()


def hash_file(path: Path) -> tuple[str, int]:
    """(SHA-256, size) of a file."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


class EngineError(StoreError):
    """A database error while writing, as the engine worded it (the ingester says which file it was writing)."""


@dataclass
class VerifyProblem:
    kind: str  # locker | row | file | chain | identity | missing | orphan
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class HistoryEntry(TypedDict):
    """One observation of a finding identity (``sckb evidence show``)."""

    file_sha256: str
    file: str
    scan_time: str
    result: str
    pointer: str


# ---------------------------------------------------------------------- ingest
#: One observation row before the store numbers it: two leading slots for the observation and file ids, then
#: :data:`OBS_COLUMNS` (the digest is appended when numbered). Lists, not tuples: numbered in place.
ObsRow = list[Any]
#: One identity row: (identity, tool, rule_id, loc, first_seen, last_seen, status, position in the batch (becomes
#: its observation id), None (becomes the file id), mapped_by, mitigations, controls).
IdentityRow = list[Any]
#: One batch of a file's rows: observation rows in file order, identity rows sorted by identity.
Batch = tuple[list[ObsRow], list[IdentityRow]]


@dataclass(frozen=True, slots=True)
class NewFile:
    """The ``files`` row of a file being written, less what the store derives (its row count and digests)."""

    sha256: str
    name: str
    format: str
    tool: str
    tool_version: str | None
    scan_time: str
    scan_time_source: str
    ingested_at: str
    bytes: int
    failed: int
    passed: int
    other: int
    mapped: int
    #: how the file is known to be complete: ``verified``, ``whole-document`` or ``unverified-complete``
    completeness: str | None = None


class FileWrite(ABC):
    """One evidence file's transaction. A context manager: committed when the block ends normally, rolled back
    when it raises (so a crash or ``kill -9`` mid-file leaves the store as it was). Database errors are raised
    as :class:`EngineError`."""

    @abstractmethod
    def __enter__(self) -> FileWrite: ...

    @abstractmethod
    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None: ...

    @abstractmethod
    def has_file(self, sha256: str) -> bool:
        """Whether the store holds this file (as seen inside the transaction)."""

    @abstractmethod
    def add(self, batch: Batch) -> int:
        """Number, digest and write a batch of rows (observations appended, identities upserted); its row count."""

    @property
    @abstractmethod
    def count(self) -> int:
        """Observation rows written so far in this transaction."""

    @abstractmethod
    def cover(self, main_tool: str, tools: list[str], locs: list[str], prefix: Callable[[str, str], str], scan_time: str) -> None:
        """Record that ``tools`` scanned ``locs`` at ``scan_time`` and close their findings this file no longer
        reports (``prefix(tool, loc)``: the first characters every identity of that scope starts with). When a
        newer scan of ``main_tool`` came in earlier, findings that later coverage closes are closed too."""

    @abstractmethod
    def finish(self, file: NewFile, attachments: list[tuple[str, str, str]]) -> None:
        """Write the ``files`` row (chained to the previous one) and the attachments' (pointer, path, sha256)."""


# ---------------------------------------------------------------------- assessment reading
class SlotCodes(NamedTuple):
    """The codes the assessment gives status rule 1's outcomes (the store computes them while grouping)."""

    passed: int
    failed: int
    error: int
    closed: int
    info: int
    stale: int
    future: int
    irregular: int  # a time that is not canonical ISO 8601 (``YYYY-MM-DDTHH:MM:SSZ``)
    #: evidence dated only at ingest (``scan_time_source`` ``ingest``); None: such evidence counts as dated
    undated: int | None = None


class GroupRow(NamedTuple):
    """Findings with one tally key (the first eight items), with how many there are. ``mitigations`` and ``targets`` are the
    store's space-separated id lists; ``subjects_json`` a JSON array of the distinct subjects (``null`` for
    findings without one)."""

    tool: str
    rule_id: str
    file_id: int
    slot: int
    method: str
    mitigations: str
    targets: str
    mapped_by: str
    findings: int
    last_seen: str
    subjects_json: str


class FailingRow(NamedTuple):
    """An open finding whose latest observation failed (``targets`` and ``mitigations`` as space-separated ids)."""

    identity: str
    tool: str
    rule_id: str
    rule_title: str | None
    severity: str | None
    result: str
    resource: str | None
    function: str | None
    file: str | None
    line: int | None
    pointer: str
    message: str | None
    method: str
    targets: str
    first_seen: str
    last_seen: str
    status: str
    file_id: int
    mitigations: str
    mapped_by: str


#: A filter over a finding's subject (issue 21: a system's boundary), called with its latest observation's
#: provider, account, region, resource, function, file and method; true keeps the finding.
SubjectFilter = Callable[[str | None, str | None, str | None, str | None, str | None, str | None, str], bool]


class GroupScan(ABC):
    """The group rows of one assessment, being read (perhaps by threads, started at once)."""

    @abstractmethod
    def batches(self) -> Iterator[list[GroupRow]]:
        """The rows, in batches (a key may come in several batches: the caller adds them up)."""

    @abstractmethod
    def wait(self) -> None:
        """Wait for any reading still going on (after an error, before the store is used again)."""


# ---------------------------------------------------------------------- assessments
@dataclass(frozen=True, slots=True)
class AssessmentBlob:
    """An assessment as stored: its metadata, its summary and whole form (serialised) and its control statuses."""

    id: str
    now: str
    scopes: tuple[str, ...]
    max_age_days: int
    summary: bytes
    data: bytes
    controls: tuple[tuple[str, str], ...]  # (control id, status)


@dataclass(frozen=True, slots=True)
class AssessmentRow:
    """One stored assessment in a listing (``seq``: the order of saving; the highest is the latest)."""

    id: str
    seq: int
    now: str
    scopes: tuple[str, ...]
    summary: bytes


# ---------------------------------------------------------------------- assessors' determinations (issue 21)
#: The ``status`` of a record that withdraws the determination of its target (it is itself kept in the history).
WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class DeterminationRecord:
    """One assessor's determination (or withdrawal) as the store keeps it. The history is append-only: a newer
    record for the same target supersedes an older one, nothing is edited or deleted. The assessment stage turns
    these into its own ``Determination`` objects (this stage must not import it)."""

    target: str
    #: a control status, or :data:`WITHDRAWN`
    status: str
    rationale: str
    by: str
    role: str
    #: when it was made (``YYYY-MM-DDTHH:MM:SSZ``)
    date: str
    methods: tuple[str, ...]
    #: ``cli`` or the name of the determinations file
    source: str
    #: the order of recording, given by the store (0 before it is stored)
    seq: int = 0


# ---------------------------------------------------------------------- triage decisions (issue 22)
@dataclass(frozen=True, slots=True)
class TriageRecord:
    """One triage decision about findings (or its withdrawal) as the store keeps it: append-only like
    determinations; a newer record of the same target and kind supersedes an older one. What the kind's own
    fields mean is :mod:`compliance.evidence.triage`'s business: the store keeps them as JSON (``details``)."""

    #: a finding identity, or ``rule:<tool>:<rule_id>`` for every finding of a rule
    target: str
    #: the decision's kind (:data:`compliance.evidence.triage.KINDS`)
    kind: str
    #: this record withdraws the target's decision of this kind
    withdrawn: bool
    rationale: str
    by: str
    #: when it was made (``YYYY-MM-DDTHH:MM:SSZ``)
    date: str
    #: when it stops counting (``YYYY-MM-DDTHH:MM:SSZ``), if ever
    expires: str | None
    #: who approved it (the authorizing official or their delegate), if anyone yet
    approved_by: str | None
    #: the kind's own fields as JSON with sorted keys (adjusted rating, vendor product, milestones ...)
    details: str
    #: supporting documents: (name as given, SHA-256 of the locker copy)
    documents: tuple[tuple[str, str], ...]
    #: ``cli`` or the name of the triage file
    source: str
    #: the order of recording, given by the store (0 before it is stored)
    seq: int = 0


# ---------------------------------------------------------------------- systems (issue 21)
@dataclass(frozen=True, slots=True)
class SystemRow:
    """One stored system (authorization boundary): its name, its validated record as JSON (see
    :class:`compliance.evidence.system.System`), the file it was added from and when (``--now``)."""

    name: str
    data: bytes
    source: str
    added_at: str


# ---------------------------------------------------------------------- the store
#: a temp copy's name: ``<pid>-...`` (ingest) or ``<word>-<pid>-...`` (e.g. ``triage-<pid>-<name>``)
_TMP_OWNER = re.compile(r"^(?:[a-z]+-)?(\d+)-")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a reused pid counts as alive: its copies are then left, never lost)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


_default_engine: list[type[Store]] = []


def set_default_engine(engine: type[Store]) -> None:
    """The engine :meth:`Store.open` opens (the package sets SQLite)."""
    _default_engine[:] = [engine]


#: URL scheme -> a function giving the engine of such URLs (imported when first used: see :func:`store_url`)
_url_engines: dict[str, Callable[[], type[Store]]] = {}


def register_url_engine(scheme: str, engine: Callable[[], type[Store]]) -> None:
    """Open stores named by ``scheme://`` URLs with ``engine()`` (the package registers PostgreSQL)."""
    _url_engines[scheme] = engine


def store_url() -> str | None:
    """The configured store URL (``SCKB_STORE``, which ``--store`` sets): None means the workspace's SQLite."""
    return os.environ.get("SCKB_STORE") or None


def url_engine(url: str) -> type[Store]:
    """The engine of a store URL; a one-line :class:`StoreError` for an unknown scheme."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in _url_engines:
        known = ", ".join(f"{s}://" for s in sorted(_url_engines))
        raise StoreError(f"store URL {scheme or url.split('@')[-1]!r}: unknown kind of store (known: {known})")
    return _url_engines[scheme]()


class Store(ABC):
    """The evidence store of one workspace. Use as a context manager."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.locker = workspace / "locker"

    # ------------------------------------------------------------------ open / close
    @classmethod
    def open(cls, workspace: Path, *, create: bool = True, read_only: bool = False) -> Store:
        """Open the workspace's store (with ``create``, make it when missing). ``read_only``: only read, make
        and change nothing (a missing store is a :class:`NotFoundError`)."""
        if cls is Store:
            url = store_url()
            if url is not None:  # a team store (issue 16): the URL's engine, configured by the environment
                return url_engine(url).open(workspace, create=create, read_only=read_only)
            if not _default_engine:
                raise StoreError("no evidence store engine is available")
            return _default_engine[0].open(workspace, create=create, read_only=read_only)
        raise NotImplementedError(f"{cls.__name__} must implement open()")

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ locker
    def locker_path(self, sha256: str) -> Path:
        return self.locker / sha256[:2] / sha256

    def tmp_dir(self) -> Path:
        d = self.locker / "tmp"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def clean_stale_tmp(self) -> list[Path]:
        """Remove the copies in ``locker/tmp`` whose owner (the process id their name starts with) has ended:
        what an interrupted run left. A live process's copies (another ingest, a triage import) are not
        touched, nor names that say no owner. The paths removed."""
        d = self.locker / "tmp"
        removed: list[Path] = []
        for p in sorted(d.iterdir()) if d.is_dir() else []:
            m = _TMP_OWNER.match(p.name)
            if m is None or _alive(int(m.group(1))):
                continue
            try:
                p.unlink()
            except FileNotFoundError:  # removed meanwhile by another run that found it stale too
                continue
            except IsADirectoryError:
                continue
            removed.append(p)
        return removed

    def put_locker(self, tmp: Path, sha256: str) -> Path:
        """Move a fully written temp copy into its content address (atomic rename)."""
        dest = self.locker_path(sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            tmp.unlink(missing_ok=True)
        else:
            os.replace(tmp, dest)
        return dest

    def locker_orphans(self) -> list[Path]:
        """Locker files no database row names (left by an interrupted ingest; harmless)."""
        known = self.locker_names()
        out: list[Path] = []
        for sub in sorted(self.locker.iterdir()) if self.locker.is_dir() else []:
            if sub.name == "tmp" or not sub.is_dir():
                continue
            out.extend(p for p in sorted(sub.iterdir()) if p.name not in known)
        return out

    @abstractmethod
    def locker_names(self) -> set[str]:
        """SHA-256 of every file and attachment the database names."""

    # ------------------------------------------------------------------ evidence
    @abstractmethod
    def has_file(self, sha256: str) -> bool: ...

    @abstractmethod
    def files(self) -> list[EvidenceFile]:
        """The ingested files, in ingest order."""

    @abstractmethod
    def findings(
        self,
        *,
        status: str | None = None,
        tool: str | None = None,
        rule: str | None = None,
        mitigation: str | None = None,
        control: str | None = None,
        mapped: bool | None = None,
        identity: str | None = None,
    ) -> Iterator[StoredFinding]:
        """Finding identities with the fields of their latest observation, filtered, in a stable order
        (tool, rule, resource, file, line, identity; ``identity`` filters by prefix)."""

    def finding(self, identity: str) -> StoredFinding:
        hits = list(self.findings(identity=identity))
        if not hits:
            raise NotFoundError(f"no finding with identity {identity!r}")
        if len(hits) > 1 and not any(h.identity == identity for h in hits):
            raise NotFoundError(f"identity prefix {identity!r} is ambiguous ({len(hits)} findings)")
        return next((h for h in hits if h.identity == identity), hits[0])

    @abstractmethod
    def statuses(self, identities: Iterable[str]) -> dict[str, str]:
        """identity -> its status now, for the given full identities that exist (one query per batch)."""

    @abstractmethod
    def history(self, identity: str) -> list[HistoryEntry]:
        """Every observation of one identity, oldest scan first."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Finding identities per status (open, closed, passing, info), and ``files`` and ``observations``."""

    def observation_rows(self) -> Iterator[tuple[Any, ...]]:
        """Every observation row as stored (id, file id, :data:`OBS_COLUMNS`, digest), in id order."""
        raise NotImplementedError(f"{type(self).__name__} cannot list its observation rows")

    @abstractmethod
    def identity_count(self) -> int:
        """How many finding identities the store holds."""

    @abstractmethod
    def verify(self) -> list[VerifyProblem]:
        """Re-hash the locker and recompute every digest. An empty list means the store is intact."""

    @abstractmethod
    def last_chain(self) -> str:
        """The chain digest of the newest file row (:data:`GENESIS` when there is none)."""

    # ------------------------------------------------------------------ ingest
    @abstractmethod
    def write_file(self) -> FileWrite:
        """A transaction that writes one evidence file (one writer at a time: it waits for others)."""

    @abstractmethod
    def bulk_ingest(self) -> None:
        """A batch of files is about to be written (an engine may tune itself for it)."""

    @abstractmethod
    def checkpoint(self) -> None:
        """A batch of files was written (an engine may fold its journal back)."""

    # ------------------------------------------------------------------ assessment reading
    @abstractmethod
    def can_tally(self) -> bool:
        """Whether :meth:`tally_groups` and :meth:`open_failures` work on this store (its layout is current)."""

    @abstractmethod
    def file_shas(self) -> dict[int, str]:
        """file id (as group and failing rows give it) -> sha256."""

    @abstractmethod
    def tally_groups(
        self, start: str, now: str, slots: SlotCodes, workers: int = 1, inside: SubjectFilter | None = None
    ) -> GroupScan:
        """Every finding identity's latest observation, grouped by tally key, with status rule 1 applied for the
        window [``start``, ``now``] (canonical ISO times) as ``slots`` codes. ``workers`` may read in parallel.
        With ``inside`` (a system's boundary), only the findings whose subject it accepts."""

    @abstractmethod
    def open_failures(
        self, start: str, now: str, inside: SubjectFilter | None = None, dated_only: bool = False
    ) -> Iterator[FailingRow]:
        """The open findings whose latest observation failed, last seen within [``start``, ``now``] (with
        ``inside``, only those whose subject it accepts; with ``dated_only``, only those whose evidence states its
        scan time or was given one at ingest)."""

    # ------------------------------------------------------------------ assessments
    @abstractmethod
    def save_assessment(self, blob: AssessmentBlob) -> None:
        """Store an assessment (the same id again replaces it and makes it the latest)."""

    @abstractmethod
    def resolve_assessment(self, ident: str | None) -> str:
        """The full id of an assessment: ``None`` or ``latest`` -> the latest; else an id or unique prefix."""

    @abstractmethod
    def assessment_data(self, full_id: str) -> bytes:
        """The stored form of the assessment ``full_id`` (as :class:`AssessmentBlob` ``data``)."""

    @abstractmethod
    def assessments(self) -> list[AssessmentRow]:
        """Every stored assessment, latest first."""

    # ------------------------------------------------------------------ assessors' determinations (issue 21)
    @abstractmethod
    def add_determinations(self, records: Sequence[DeterminationRecord]) -> int:
        """Append determinations to the history in one transaction (a record equal in every field to a stored one
        is not stored twice); how many were new."""

    @abstractmethod
    def determinations(self) -> list[DeterminationRecord]:
        """The whole history of determinations, in the order they were recorded (empty when there is none, also
        on a read-only store that predates them)."""

    # ------------------------------------------------------------------ triage decisions (issue 22)
    @abstractmethod
    def add_triage(self, records: Sequence[TriageRecord]) -> int:
        """Append triage decisions in one transaction (a record equal in every field to a stored one is not stored
        twice; their documents must already be in the locker); how many were new."""

    @abstractmethod
    def triage(self) -> list[TriageRecord]:
        """Every triage decision ever recorded, in the order recorded (empty when there is none)."""

    # ------------------------------------------------------------------ catalog statements
    @abstractmethod
    def put_statements(self, found: Mapping[str, tuple[str, str]], source: str) -> int:
        """Replace the catalog statements: control id -> (title, statement); their count."""

    @abstractmethod
    def statements(self) -> dict[str, str]:
        """control id -> statement text (empty when no catalog was imported)."""

    # ------------------------------------------------------------------ systems (issue 21)
    @abstractmethod
    def put_system(self, row: SystemRow, *, replace: bool = False) -> bool:
        """Store a system; an existing one of that name is replaced only with ``replace`` (else a
        :class:`~compliance.errors.InputError`). Whether one was replaced."""

    @abstractmethod
    def systems(self) -> list[SystemRow]:
        """Every stored system, by name (empty when none was added, also in a read-only store)."""

    def system(self, name: str) -> SystemRow:
        """The system ``name``; a :class:`NotFoundError` listing the known ones when there is none."""
        rows = self.systems()
        for row in rows:
            if row.name == name:
                return row
        known = ", ".join(r.name for r in rows) or "none; add one with 'sckb system add FILE'"
        raise NotFoundError(f"no system {name!r} in this workspace (known: {known})")

    @abstractmethod
    def remove_system(self, name: str) -> None:
        """Forget the system ``name`` (a :class:`NotFoundError` when there is none)."""
