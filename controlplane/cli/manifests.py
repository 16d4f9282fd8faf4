"""Reading `-f FILE|DIR|-` into API objects, all checked before any is written.

A file may hold many YAML documents or a `kind: List`; a directory means its
.yaml, .yml and .json files in name order; `-` is stdin. Every document is
parsed strictly (controlplane.api.convert), so an unknown field or a wrong
type is reported by its path. `load` collects all problems in all documents
(the caller writes nothing if there is any); `load_each` gives each document's
object or problem, for a caller that applies the good ones (kubectl's apply).
"""
import pathlib
import sys
from dataclasses import dataclass

from google.protobuf.message import Message

from controlplane.api import convert, kinds
from controlplane.api.errors import InvalidError, ManifestError
from controlplane.cli.common import DEFAULT_NAMESPACE, CommandError

_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Manifest:
    source: str           # file name, or "-" for stdin
    data: dict            # the document as written
    kind: kinds.Kind
    obj: Message          # parsed, its namespace settled

    @property
    def name(self) -> str:
        return self.obj.metadata.name

    @property
    def namespace(self) -> str:
        return self.obj.metadata.namespace


class ManifestsInvalid(CommandError):
    """Some documents are bad; `problems` has one line for each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def read_documents(paths: list[str]) -> list[tuple[str, dict]]:
    """(source, document) for every object in the files, directories or stdin named."""
    documents = []
    for path in paths:
        for source, text in _texts(path):
            try:
                documents += [(source, d) for d in convert.load_manifests(text, source=_display(source))]
            except ManifestError as e:
                raise CommandError(str(e)) from None
    if not documents:
        raise CommandError(f"no objects found in {', '.join(paths)}")
    return documents


def _display(source: str) -> str:
    return "standard input" if source == "-" else source


def _decoded(source: str, data: bytes) -> str:
    """The text of a manifest, or one line saying where it stops being UTF-8 (YAML and JSON must be)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CommandError(f"{_display(source)}: not UTF-8 text: invalid byte 0x{data[e.start]:02x} "
                           f"at offset {e.start}") from None


def _texts(path: str):
    if path == "-":
        yield "-", _decoded("-", sys.stdin.buffer.read())
        return
    where = pathlib.Path(path)
    if where.is_dir():
        files = sorted(p for p in where.iterdir() if p.suffix in _SUFFIXES and p.is_file())
    else:
        files = [where]
    for file in files:
        try:
            data = file.read_bytes()
        except OSError as e:
            raise CommandError(f"cannot read {file}: {e.strerror}") from None
        yield str(file), _decoded(str(file), data)


def load(paths: list[str], *, namespace: str | None) -> list[Manifest]:
    """Every object in `paths`, parsed; ManifestsInvalid lists every problem in every document."""
    entries = load_each(paths, namespace=namespace)
    problems = [entry for entry in entries if isinstance(entry, str)]
    if problems:
        raise ManifestsInvalid(problems)
    return entries


def load_each(paths: list[str], *, namespace: str | None) -> list[Manifest | str]:
    """Each document in `paths`, in order: its Manifest, or the line saying why it is refused.

    For commands that act on every good document and report the others (`apply`, as kubectl).
    `namespace` (from -n) fills in objects that name none; an object naming
    another one is refused, as kubectl refuses it. Cluster-scoped objects
    keep no namespace.
    """
    return [_parse(source, data, namespace=namespace) for source, data in read_documents(paths)]


def _parse(source: str, data: dict, *, namespace: str | None) -> Manifest | str:
    try:
        obj = convert.from_manifest(data)
    except InvalidError as e:
        return _where(source, e)
    kind = kinds.by_name(obj.kind)
    meta = obj.metadata
    if not kind.namespaced:
        meta.namespace = ""
    elif meta.namespace and namespace and meta.namespace != namespace:
        return (f'{source}: the namespace from the provided object "{meta.namespace}" does not '
                f'match the namespace "{namespace}". You must pass '
                f"'--namespace={meta.namespace}' to perform this operation.")
    else:
        meta.namespace = meta.namespace or namespace or DEFAULT_NAMESPACE
    return Manifest(source=source, data=data, kind=kind, obj=obj)


def _where(source: str, error) -> str:
    return str(error) if source == "-" else f"{source}: {error}"


def where(manifest: Manifest, error) -> str:
    """An error about one manifest, prefixed by its file."""
    return _where(manifest.source, error)
