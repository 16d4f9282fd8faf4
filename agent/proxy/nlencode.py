"""The renderer's commands (nft's JSON schema, nftjson.py), encoded as nf_tables netlink
messages. Pure: bytes out.

Why not let nft do it: nft 1.0.6 fetches every chain of the table before any
command that adds a rule or an element (90-150 ms at 10,000 Services), and
its parser and evaluator cost more than the kernel itself. This module turns
the commands into the messages nft would send for them, so the rules have one
source (the renderer) and the kernel gets them without a process in between.

Only the constructs the renderer uses are known; anything else raises
ValueError naming it, so a new construct in the renderer fails in the unit
tests instead of quietly meaning something else. Each construct is encoded
the way nft 1.0.6 encodes it (the same expressions, registers, flags and set
metadata), read off `nft --debug=netlink,mnl`; tests/proxy/test_netlink.py
applies both paths to real kernels and compares the listings.

Reading aid: a rule is a list of expressions that work on registers. `ip daddr
. meta l4proto . th dport vmap @m` becomes: load 4 bytes of the IP header at
offset 16 into register 1, the l4 protocol into the next 32-bit register, two
bytes of the transport header at offset 2 into the one after; look the
registers up in set m and take the verdict found.
"""
from __future__ import annotations

import functools
import socket
import struct
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from agent.proxy.nftjson import Command

NFPROTO_IPV4 = 2

# message types (enum nf_tables_msg_types), each sent as (NFNL_SUBSYS_NFTABLES << 8) | type
NFNL_SUBSYS_NFTABLES = 10
NEWTABLE, DELTABLE, NEWCHAIN, DELCHAIN, NEWRULE, DELRULE = 0, 2, 3, 5, 6, 8
NEWSET, DELSET, NEWSETELEM, DELSETELEM = 9, 11, 12, 14

# netlink message flags
NLM_F_REQUEST, NLM_F_CREATE, NLM_F_APPEND = 0x1, 0x400, 0x800
NLA_F_NESTED = 0x8000

# verdicts
NF_DROP, NF_ACCEPT, NFT_JUMP, NFT_GOTO = 0, 1, -3, -4
_VERDICTS = {"jump": NFT_JUMP, "goto": NFT_GOTO}
NFT_DATA_VERDICT = 0xFFFFFF00

# registers: 0 is the verdict; 1 and 2 are 16-byte registers; 9.. name the 32-bit words after the first
REG_VERDICT, REG_1, REG_2 = 0, 1, 2

# set flags
SET_FLAGS = {"timeout": 0x10, "dynamic": 0x20}  # NFT_SET_TIMEOUT, NFT_SET_EVAL
NFT_SET_MAP = 0x8

HOOKS = {"prerouting": 0, "input": 1, "forward": 2, "output": 3, "postrouting": 4}
PROTOCOL_NUMBERS = {"tcp": socket.IPPROTO_TCP, "udp": socket.IPPROTO_UDP}

_PAD = (b"", b"\0\0\0", b"\0\0", b"\0")
_nla_header = struct.Struct("=HH").pack
_be16 = struct.Struct(">H").pack
_be32 = struct.Struct(">I").pack
_sbe32 = struct.Struct(">i").pack
_be64 = struct.Struct(">Q").pack
_host32 = struct.Struct("=I").pack
_nfgen = struct.Struct("=BBH").pack(NFPROTO_IPV4, 0, 0)


class Message(NamedTuple):
    """One netlink message of a batch, not yet framed (the socket adds the header and sequence)."""

    command: int  # index of the JSON command it came from, to name it in an error
    type: int
    flags: int
    payload: bytes


# -- netlink attributes

def _attr(kind: int, payload: bytes) -> bytes:
    size = 4 + len(payload)
    return _nla_header(size, kind) + payload + _PAD[size % 4]


def _nest(kind: int, *parts: bytes) -> bytes:
    return _attr(kind | NLA_F_NESTED, b"".join(parts))


@functools.lru_cache(maxsize=65536)
def _str(kind: int, text: str) -> bytes:
    return _attr(kind, text.encode() + b"\0")


def _u32(kind: int, value: int) -> bytes:
    return _attr(kind, _be32(value))


def _value(kind: int, data: bytes) -> bytes:
    """nft_data holding a value (NFTA_DATA_VALUE inside `kind`)."""
    return _nest(kind, _attr(1, data))


def _verdict(kind: int, code: int, chain: str | None = None) -> bytes:
    """nft_data holding a verdict (NFTA_DATA_VERDICT: code, and the chain for jump and goto)."""
    parts = [_attr(1, _sbe32(code))] + ([_str(2, chain)] if chain is not None else [])
    return _nest(kind, _nest(2, *parts))


# -- datatypes: how a value is laid out, and how nft describes it in a set's metadata

class Datatype(NamedTuple):
    id: int  # nft's datatype number (a concatenation packs them 6 bits apart)
    size: int  # bytes in a register
    encode: Callable[[Any], bytes]
    encode_padded: Callable[[Any], bytes]  # padded to 32 bits, as a part of a concatenation
    byteorder: int  # nft's BYTEORDER_*: 1 host, 2 big endian


_PROTOCOL_BYTES = {name: bytes([number]) for name, number in PROTOCOL_NUMBERS.items()}
DATATYPES = {
    "ipv4_addr": Datatype(7, 4, socket.inet_aton, socket.inet_aton, 2),
    "inet_proto": Datatype(12, 1, _PROTOCOL_BYTES.__getitem__,
                           {name: b + b"\0\0\0" for name, b in _PROTOCOL_BYTES.items()}.__getitem__, 1),
    "inet_service": Datatype(13, 2, _be16, struct.Struct(">Hxx").pack, 2),
    "mark": Datatype(19, 4, _host32, _host32, 1),
    "integer": Datatype(4, 4, _host32, _host32, 1),  # a numgen number
}

# The expressions a key is loaded from (and a typeof declaration names): how to load them, their
# datatype, and nft's numbers for describing them in a set's metadata.
PAYLOAD_FIELDS = {  # (protocol, field) -> (base: 1 network, 2 transport header; offset; datatype;
    #                                        nft's protocol description and field numbers)
    ("ip", "saddr"): (1, 12, "ipv4_addr", 12, 11),
    ("ip", "daddr"): (1, 16, "ipv4_addr", 12, 12),
    ("th", "dport"): (2, 2, "inet_service", 11, 2),
}
META_KEYS = {"mark": (3, "mark"), "l4proto": (16, "inet_proto")}  # key -> (NFT_META_*, datatype)
CT_KEYS = {"ip daddr": (20, "ipv4_addr"), "proto-dst": (12, "inet_service")}  # key -> (NFT_CT_*, datatype)
EXPR_PAYLOAD, EXPR_META, EXPR_CONCAT, EXPR_NUMGEN = 7, 9, 13, 23  # nft's expression type numbers

# nft's metadata beside a set (NFTA_SET_USERDATA), read by nft alone to print the set
UDATA_KEYBYTEORDER, UDATA_DATABYTEORDER, UDATA_KEY_TYPEOF, UDATA_DATA_TYPEOF, UDATA_DATA_INTERVAL = 0, 1, 3, 4, 6


def _padded(size: int) -> int:
    return (size + 3) & ~3


def _expr_datatypes(expr: Any) -> list[Datatype]:
    """Datatypes of the parts of a typeof expression (one for a single expression)."""
    kind, body = _only(expr)
    if kind == "concat":
        return [t for part in body for t in _expr_datatypes(part)]
    if kind == "payload" and (body["protocol"], body["field"]) in PAYLOAD_FIELDS:
        return [DATATYPES[PAYLOAD_FIELDS[(body["protocol"], body["field"])][2]]]
    if kind == "meta" and body["key"] in META_KEYS:
        return [DATATYPES[META_KEYS[body["key"]][1]]]
    if kind == "numgen":
        return [DATATYPES["integer"]]
    raise ValueError(f"typeof {expr!r}: not one the encoder knows")


def _named_datatypes(type_: str | list[str]) -> list[Datatype]:
    names = [type_] if isinstance(type_, str) else type_
    unknown = [name for name in names if name not in DATATYPES]
    if unknown:
        raise ValueError(f"set type {unknown[0]!r}: not one the encoder knows")
    return [DATATYPES[name] for name in names]


def _layout(types: list[Datatype]) -> tuple[int, int, Callable[[Any], bytes]]:
    """A key's (or a map's data) type number and length, and how a value is laid out: a
    concatenation pads each part to 32 bits, as in the registers it is compared with or loaded to."""
    type_id = functools.reduce(lambda acc, t: acc << 6 | t.id, types, 0)
    if len(types) == 1:
        return type_id, types[0].size, types[0].encode
    encoders = [t.encode_padded for t in types]

    def concatenation(value: Any) -> bytes:
        return b"".join([encode(v) for encode, v in zip(encoders, value["concat"])])
    return type_id, sum(_padded(t.size) for t in types), concatenation


def _udata(kind: int, data: bytes) -> bytes:
    return bytes([kind, len(data)]) + data


def _typeof(expr: Any | None) -> bytes:
    """nft's description of a key: its expression type and, for typeof, the expression itself.
    A concatenation of named types (expr None) is described as a concatenation of nothing."""
    if expr is None:
        return _udata(0, _host32(EXPR_CONCAT)) + _udata(1, b"")
    kind, body = _only(expr)
    if kind == "concat":
        etype, described = EXPR_CONCAT, b"".join(_udata(i, _typeof(part)) for i, part in enumerate(body))
    elif kind == "payload":
        _, _, _, protocol, field = PAYLOAD_FIELDS[(body["protocol"], body["field"])]
        etype, described = EXPR_PAYLOAD, _udata(0, _host32(protocol)) + _udata(1, _host32(field))
    elif kind == "meta":
        etype, described = EXPR_META, _udata(0, _host32(META_KEYS[body["key"]][0]))
    else:  # numgen, random (_expr_datatypes has let nothing else through)
        etype, described = EXPR_NUMGEN, (_udata(0, _host32(1)) + _udata(1, _host32(body["mod"]))
                                         + _udata(2, _host32(body.get("offset", 0))))
    return _udata(0, _host32(etype)) + _udata(1, described)


class SetDeclaration(NamedTuple):
    """A set or map as the kernel and nft's metadata describe it, from its nft JSON body."""

    key: tuple[int, int, Callable[[Any], bytes]]  # type number, length, layout
    data: tuple[int, int, Callable[[Any], bytes]] | None  # a data map's; None for sets and verdict maps
    userdata: bytes

    def element_encoder(self) -> Callable[[Any], bytes]:
        """nft JSON element -> its NFTA_LIST_ELEM attribute. A full sync encodes tens of thousands,
        so the fixed parts (every attribute header but a verdict's) are made once, here."""
        _, key_len, key = self.key
        key_pad = bytes(_padded(key_len) - key_len)
        key_part = _nla_header(8 + _padded(key_len), 1 | NLA_F_NESTED) + _nla_header(4 + key_len, 1)  # KEY, VALUE
        alone = _nla_header(4 + len(key_part) + _padded(key_len), 1 | NLA_F_NESTED) + key_part
        if self.data is not None:
            _, data_len, data = self.data
            data_pad = bytes(_padded(data_len) - data_len)
            data_part = _nla_header(8 + _padded(data_len), 2 | NLA_F_NESTED) + _nla_header(4 + data_len, 1)
            with_data = _nla_header(4 + len(key_part) + _padded(key_len) + len(data_part) + _padded(data_len),
                                    1 | NLA_F_NESTED) + key_part

        def element(elem: Any) -> bytes:
            if not isinstance(elem, list):  # a key alone: a set's element, or one to delete
                return alone + key(elem) + key_pad
            if self.data is not None:  # [key, data]
                return with_data + key(elem[0]) + key_pad + data_part + data(elem[1]) + data_pad
            verdict, target = _only(elem[1])  # [key, {"goto": {"target": chain}}]
            return _nest(1, key_part + key(elem[0]) + key_pad, _verdict(2, _VERDICTS[verdict], target["target"]))
        return element

    @classmethod
    def of(cls, body: dict[str, Any], is_map: bool) -> SetDeclaration:
        key_expr = body.get("typeof")
        key_types = _expr_datatypes(key_expr) if key_expr is not None else _named_datatypes(body["type"])
        data = body.get("map") if is_map else None
        if is_map and data != "verdict" and not isinstance(data, dict):
            raise ValueError(f"map data {data!r}: a verdict, or an expression (with typeof)")
        data_expr = data if isinstance(data, dict) else None
        data_types = _expr_datatypes(data_expr) if data_expr is not None else None
        # nft writes: key byte order (none for a concatenation), a map's data byte order, the
        # key's description (for typeof or a concatenation), the data's (typeof), data intervals
        udata = _udata(UDATA_KEYBYTEORDER, _host32(key_types[0].byteorder if len(key_types) == 1 else 0))
        if is_map:
            udata += _udata(UDATA_DATABYTEORDER, _host32(
                data_types[0].byteorder if data_types is not None and len(data_types) == 1 else 0))
        if key_expr is not None or len(key_types) > 1:
            udata += _udata(UDATA_KEY_TYPEOF, _typeof(key_expr))
        if data_expr is not None:
            udata += _udata(UDATA_DATA_TYPEOF, _typeof(data_expr))
        if is_map:
            udata += _udata(UDATA_DATA_INTERVAL, _host32(0))
        return cls(_layout(key_types), _layout(data_types) if data_types is not None else None, udata)


# -- expressions

@functools.cache
def _expr_name(name: str) -> bytes:
    return _str(1, name)


def _expr(name: str, *attrs: bytes) -> bytes:
    return _nest(1, _expr_name(name), _nest(2, *attrs))


def _register(word: int) -> int:
    """Register for the 32-bit word `word` of a key, named as nft names it: a word that starts a
    16-byte register by that register (1 for word 0, 2 for word 4), any other by its 32-bit name
    (NFT_REG32_00 is 8: word 1 is 9)."""
    return REG_1 + word // 4 if word % 4 == 0 else 8 + word


@functools.cache
def _payload(protocol: str, field: str, dreg: int) -> tuple[bytes, str]:
    base, offset, type_, _, _ = PAYLOAD_FIELDS[(protocol, field)]
    return _expr("payload", _u32(1, dreg), _u32(2, base), _u32(3, offset),
                 _u32(4, DATATYPES[type_].size)), type_


@functools.cache
def _meta_load(key: str, dreg: int) -> tuple[bytes, str]:
    number, type_ = META_KEYS[key]
    return _expr("meta", _u32(2, number), _u32(1, dreg)), type_


@functools.cache
def _ct_load(key: str, direction: str, dreg: int) -> tuple[bytes, str]:
    number, type_ = CT_KEYS[key]
    if direction != "original":
        raise ValueError(f"ct direction {direction!r}: only original")
    return _expr("ct", _u32(2, number), _u32(1, dreg), _attr(3, b"\0")), type_


@functools.cache
def _numgen(mod: int, offset: int, dreg: int) -> bytes:
    return _expr("numgen", _u32(1, dreg), _u32(2, mod), _u32(3, 1), _u32(4, offset))  # type 1: random


def _bitwise(mask: int, xor: int) -> bytes:
    return _expr("bitwise", _u32(1, REG_1), _u32(2, REG_1), _u32(6, 0), _u32(3, 4),
                 _value(4, _host32(mask)), _value(5, _host32(xor)))


@functools.cache
def _cmp_eq(data: bytes) -> bytes:
    return _expr("cmp", _u32(1, REG_1), _u32(2, 0), _value(3, data))


@functools.lru_cache(maxsize=65536)
def _lookup(set_name: str, dreg: int | None) -> bytes:
    """Look registers 1.. up in `set_name`; a map's value goes to `dreg` (a verdict to register 0)."""
    return _expr("lookup", _u32(2, REG_1), *([_u32(3, dreg)] if dreg is not None else []), _str(1, set_name))


@functools.lru_cache(maxsize=65536)
def _immediate_verdict(code: int, chain: str | None) -> bytes:
    return _expr("immediate", _u32(1, REG_VERDICT), _verdict(2, code, chain))


def _load(expr: Any) -> tuple[bytes, str | None]:
    """Expressions that put `expr` into the registers from register 1 on, and its datatype
    (None for a concatenation, which only a set lookup takes)."""
    kind, body = _only(expr)
    if kind != "concat":
        return _load_one(kind, body, REG_1)
    code, word = b"", 0
    for part in body:
        loaded, type_ = _load_one(*_only(part), _register(word))
        code += loaded
        word += _padded(DATATYPES[type_].size) // 4
    return code, None


def _load_one(kind: str, body: Any, dreg: int) -> tuple[bytes, str]:
    if kind == "payload":
        return _payload(body["protocol"], body["field"], dreg)
    if kind == "meta":
        return _meta_load(body["key"], dreg)
    if kind == "ct":
        return _ct_load(body["key"], body["dir"], dreg)
    if kind == "numgen" and body["mode"] == "random":
        return _numgen(body["mod"], body.get("offset", 0), dreg), "integer"
    raise ValueError(f"expression {kind} {body!r}: not one the encoder knows")


def _mark_op(value: Any) -> tuple[int, int]:
    """`meta mark OP x` as the bitwise mask and xor the kernel applies: (mark & mask) ^ xor."""
    op, (left, operand) = _only(value)
    if left != {"meta": {"key": "mark"}}:
        raise ValueError(f"expression {value!r}: only meta mark takes & or |")
    if op == "&":
        return operand, 0
    if op == "|":
        return 0xFFFFFFFF ^ operand, operand
    raise ValueError(f"operator {op!r}: not one the encoder knows")


def _match(body: dict[str, Any]) -> bytes:
    if body["op"] != "==":
        raise ValueError(f"match operator {body['op']!r}: not one the encoder knows")
    left, right = body["left"], body["right"]
    if isinstance(right, str) and right.startswith("@"):
        return _load(left)[0] + _lookup(right[1:], None)
    if "&" in left:
        mask, xor = _mark_op(left)
        return _meta_load("mark", REG_1)[0] + _bitwise(mask, xor) + _cmp_eq(DATATYPES["mark"].encode(right))
    code, type_ = _load(left)
    if type_ is None:
        raise ValueError(f"match {body!r}: a concatenation compares only with a set")
    return code + _cmp_eq(DATATYPES[type_].encode(right))


def _ending_in_zeros(code: bytes, size: int) -> bytes:
    """`code` without its last `size` bytes, which must be a zero placeholder: a template."""
    assert code.endswith(bytes(size))
    return code[:-size]


# dnat to ADDR:PORT: immediate reg 1 ADDR, immediate reg 2 PORT, then
# nat dnat ip addr_min reg 1 proto_min reg 2 flags NF_NAT_RANGE_PROTO_SPECIFIED.
# One per endpoint: the immediates are templates the address and port are appended to.
_IMMEDIATE_ADDR = _ending_in_zeros(_expr("immediate", _u32(1, REG_1), _value(2, bytes(4))), 4)
_IMMEDIATE_PORT = _ending_in_zeros(_expr("immediate", _u32(1, REG_2), _value(2, bytes(2))), 4)  # 2 + padding
_DNAT = _expr("nat", _u32(1, 1), _u32(2, NFPROTO_IPV4), _u32(3, REG_1), _u32(5, REG_2), _u32(7, 2))


# dnat ip to KEY map @m: the map's value (address . port) goes to register 1, so the port is the
# 32-bit word after the address: nat dnat ip addr_min reg 1 proto_min reg 9
_DNAT_FROM_MAP = _expr("nat", _u32(1, 1), _u32(2, NFPROTO_IPV4), _u32(3, REG_1), _u32(5, _register(1)))


def _dnat(body: dict[str, Any]) -> bytes:
    addr = body["addr"]
    if isinstance(addr, dict):
        kind, lookup = _only(addr)
        if kind != "map" or body.get("family") != "ip" or "port" in body:
            raise ValueError(f"dnat {body!r}: not one the encoder knows")
        return _load(lookup["key"])[0] + _lookup(lookup["data"][1:], REG_1) + _DNAT_FROM_MAP
    return (_IMMEDIATE_ADDR + socket.inet_aton(addr) + _IMMEDIATE_PORT + _be16(body["port"]) + b"\0\0" + _DNAT)


def _update(body: dict[str, Any]) -> bytes:
    if body["op"] != "update":
        raise ValueError(f"set operation {body['op']!r}: not one the encoder knows")
    return _load(body["elem"])[0] + _expr("dynset", _u32(4, REG_1), _u32(3, 1), _str(1, body["set"][1:]))  # 1: update


def _mangle(body: dict[str, Any]) -> bytes:
    if body["key"] != {"meta": {"key": "mark"}}:
        raise ValueError(f"mangle {body['key']!r}: only meta mark")
    mask, xor = _mark_op(body["value"])
    return _meta_load("mark", REG_1)[0] + _bitwise(mask, xor) + _MARK_SET


def _reject(body: dict[str, Any]) -> bytes:
    code = _REJECTS.get((body["type"], body.get("expr")))
    if code is None:
        raise ValueError(f"reject {body!r}: not one the encoder knows")
    return code


_MASQUERADE = _expr("masq")
_MARK_SET = _expr("meta", _u32(2, META_KEYS["mark"][0]), _u32(3, REG_1))
_REJECTS = {("tcp reset", None): _expr("reject", _u32(1, 1), _attr(2, b"\0")),  # NFT_REJECT_TCP_RST
            ("icmp", "port-unreachable"): _expr("reject", _u32(1, 0), _attr(2, b"\3"))}  # ICMP_UNREACH, code 3

_STATEMENTS = {
    "match": _match,
    "goto": lambda body: _immediate_verdict(NFT_GOTO, body["target"]),
    "jump": lambda body: _immediate_verdict(NFT_JUMP, body["target"]),
    "drop": lambda body: _immediate_verdict(NF_DROP, None),
    "vmap": lambda body: _load(body["key"])[0] + _lookup(body["data"][1:], REG_VERDICT),
    "dnat": _dnat,
    "set": _update,
    "mangle": _mangle,
    "masquerade": lambda body: _MASQUERADE,
    "reject": _reject,
}


def _statement(stmt: Any) -> bytes:
    kind, body = _only(stmt)
    if kind not in _STATEMENTS:
        raise ValueError(f"statement {stmt!r}: not one the encoder knows")
    return _STATEMENTS[kind](body)


def _only(expr: Any) -> tuple[str, Any]:
    """The one key of a JSON object, and its value: how nft JSON names a kind of thing."""
    try:
        [(kind, body)] = expr.items()
    except (AttributeError, ValueError):
        raise ValueError(f"expression {expr!r}: not one the encoder knows") from None
    return kind, body


# -- commands

ELEMENTS_PER_MESSAGE_BYTES = 60_000  # an attribute's length is 16 bits: split long element lists


def encode(commands: Iterable[Command], *, sets: Mapping[str, dict[str, Any]] = {}) -> list[Message]:
    """Messages for `commands` (all addressed to the ip family). sets: declarations (nft JSON set
    and map bodies) of the sets the commands may add elements to without declaring them first:
    an element is laid out by its set's type."""
    return _Batch(sets).encode(commands)


class _Batch:
    def __init__(self, sets: Mapping[str, dict[str, Any]]):
        self._sets = {name: SetDeclaration.of(decl, "map" in decl) for name, decl in sets.items()}
        self._set_ids = 0
        self._declared: dict[str, tuple[int, dict[str, Any], bool]] = {}  # set -> (message, body, is_map)
        self._updated: set[str] = set()  # sets that rules of this batch update

    def encode(self, commands: Iterable[Command]) -> list[Message]:
        messages: list[Message] = []
        for index, command in enumerate(commands):
            verb, target = _only(command)
            kind, body = _only(target)
            if body.get("family", "ip") != "ip":
                raise ValueError(f"family {body['family']!r}: only ip")
            handler = getattr(self, f"_{verb}_{kind}", None)
            if handler is None:
                raise ValueError(f"command {verb} {kind}: not one the encoder knows")
            for type_, flags, payload in handler(body):
                if type_ == NEWSET:
                    self._declared[body["name"]] = (len(messages), body, kind == "map")
                messages.append(Message(index, (NFNL_SUBSYS_NFTABLES << 8) | type_, NLM_F_REQUEST | flags,
                                        _nfgen + payload))
        # nft makes a set "dynamic" when a rule of the same batch updates it (its JSON has no word for it)
        for name in self._updated & self._declared.keys():
            at, body, is_map = self._declared[name]
            [(_, flags, payload)] = self._add_set(body, is_map=is_map, dynamic=True)
            messages[at] = messages[at]._replace(payload=_nfgen + payload)
        return messages

    def _add_table(self, body):
        yield NEWTABLE, NLM_F_CREATE, _str(1, body["name"]) + _u32(2, 0)

    def _delete_table(self, body):
        yield DELTABLE, 0, _str(1, body["name"])

    def _add_chain(self, body):
        payload = _str(1, body["table"]) + _str(3, body["name"])
        if "hook" in body:
            payload += (_str(7, body["type"]) + _u32(5, NF_ACCEPT if body.get("policy", "accept") == "accept" else 0)
                        + _nest(4, _u32(1, HOOKS[body["hook"]]), _attr(2, _sbe32(body["prio"]))))
        yield NEWCHAIN, NLM_F_CREATE, payload

    def _flush_chain(self, body):
        yield DELRULE, 0, _str(1, body["table"]) + _str(2, body["name"])

    def _delete_chain(self, body):
        yield DELCHAIN, 0, _str(1, body["table"]) + _str(3, body["name"])

    def _add_rule(self, body):
        exprs = b""
        for stmt in body["expr"]:
            exprs += _statement(stmt)
            if "set" in stmt:
                self._updated.add(stmt["set"]["set"][1:])
        yield NEWRULE, NLM_F_CREATE | NLM_F_APPEND, _str(1, body["table"]) + _str(2, body["chain"]) + _nest(4, exprs)

    def _add_set(self, body, is_map: bool = False, dynamic: bool = False):
        declared = SetDeclaration.of(body, is_map)
        self._sets[body["name"]] = declared
        flags = (NFT_SET_MAP if is_map else 0) | (SET_FLAGS["dynamic"] if dynamic else 0)
        for flag in body.get("flags", ()):
            if flag not in SET_FLAGS:
                raise ValueError(f"set flag {flag!r}: not one the encoder knows")
            flags |= SET_FLAGS[flag]
        key_type, key_len, _ = declared.key
        payload = _str(1, body["table"]) + _str(2, body["name"]) + _u32(3, flags) + _u32(4, key_type) + _u32(5, key_len)
        if is_map:
            data_type, data_len, _ = declared.data or (NFT_DATA_VERDICT, 0, None)
            payload += _u32(6, data_type) + _u32(7, data_len)
        self._set_ids += 1  # the kernel wants each new set to have an id unique in its batch
        payload += _u32(10, self._set_ids)
        if "timeout" in body:
            payload += _attr(11, _be64(body["timeout"] * 1000))
        yield NEWSET, NLM_F_CREATE, payload + _attr(13, declared.userdata)

    def _add_map(self, body):
        return self._add_set(body, is_map=True)

    def _delete_set(self, body):
        self._sets.pop(body["name"], None)
        yield DELSET, 0, _str(1, body["table"]) + _str(2, body["name"])

    _delete_map = _delete_set

    def _add_element(self, body):
        return self._elements(NEWSETELEM, NLM_F_CREATE, body)

    def _delete_element(self, body):
        return self._elements(DELSETELEM, 0, body)

    def _elements(self, type_: int, flags: int, body):
        declared = self._sets.get(body["name"])
        if declared is None:
            raise ValueError(f"set {body['name']!r}: elements of a set the encoder has not seen declared")
        element = declared.element_encoder()
        head = _str(1, body["table"]) + _str(2, body["name"])
        batch, size = [], 0
        for elem in body["elem"]:
            encoded = element(elem)
            if size + len(encoded) > ELEMENTS_PER_MESSAGE_BYTES:
                yield type_, flags, head + _nest(3, *batch)
                batch, size = [], 0
            batch.append(encoded)
            size += len(encoded)
        if batch:
            yield type_, flags, head + _nest(3, *batch)
