"""Where each attribute access sits in its function: which loops enclose it, what they iterate.

mypy offers no "am I in a loop" API to hooks, and compiled mypy's visitors cannot be
subclassed from Python, so a small table-driven walker maps a function once; hooks look
their node up by identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mypy.nodes import (
    AssignmentExpr,
    AssignmentStmt,
    AwaitExpr,
    Block,
    CallExpr,
    CastExpr,
    ComparisonExpr,
    ConditionalExpr,
    Decorator,
    DelStmt,
    DictExpr,
    DictionaryComprehension,
    Expression,
    ExpressionStmt,
    ForStmt,
    FuncDef,
    GeneratorExpr,
    IfStmt,
    IndexExpr,
    LambdaExpr,
    ListComprehension,
    ListExpr,
    MemberExpr,
    MypyFile,
    NameExpr,
    Node,
    OperatorAssignmentStmt,
    OpExpr,
    ReturnStmt,
    SetComprehension,
    SetExpr,
    SliceExpr,
    StarExpr,
    TryStmt,
    TupleExpr,
    UnaryExpr,
    WhileStmt,
    WithStmt,
    YieldExpr,
    YieldFromExpr,
    AssertStmt,
    BreakStmt,
    RaiseStmt,
)


@dataclass(eq=False)
class Frame:
    """A loop or comprehension generator: code inside runs once per item."""

    iterable: Expression | None  # None for `while`
    target: Expression | None
    parent: Frame | None

    def binds(self, name: str) -> bool:
        return name in _target_names(self.target)


@dataclass(eq=False)
class FunctionMap:
    frame_of: dict[int, Frame] = field(default_factory=dict)  # id(MemberExpr) -> innermost loop
    members_in_loops: list[MemberExpr] = field(default_factory=list)
    assigned: set[int] = field(default_factory=set)  # ids of `obj.attr = ...` targets: writes load nothing
    call_on: dict[int, CallExpr] = field(default_factory=dict)  # id(receiver) -> `receiver.method(...)`
    argument_of: dict[int, CallExpr] = field(default_factory=dict)  # id(argument) -> the call it is passed to
    returned: set[int] = field(default_factory=set)  # ids of expressions a `return` hands to the caller
    assigned_to: dict[int, str] = field(default_factory=dict)  # id(value) -> local name it is stored in
    calls: list[CallExpr] = field(default_factory=list)
    # ids of accesses in a block that leaves the loop (ends in return/break/raise): they run once
    leaving: set[int] = field(default_factory=set)
    # first access of each `item.path.attr` per loop: later reads of it in the same item are free
    first_access: dict[tuple[int, str], int] = field(default_factory=dict)
    prefetches: bool = False  # the function calls prefetch_related_objects(...)
    attribute_names: set[str] = field(default_factory=set)  # every `.name` read in the function
    method_on: dict[int, str] = field(default_factory=dict)  # id(expr) -> method called on it
    assignments: dict[str, list[Expression]] = field(default_factory=dict)
    loop_bindings: dict[str, list[Frame]] = field(default_factory=dict)
    params: set[str] = field(default_factory=set)
    is_async: bool = False


def _target_names(target: Expression | None) -> list[str]:
    if isinstance(target, NameExpr):
        return [target.name]
    if isinstance(target, (TupleExpr, ListExpr)):
        return [n for item in target.items for n in _target_names(item)]
    if isinstance(target, StarExpr):
        return _target_names(target.expr)
    return []


_EXITS = (ReturnStmt, BreakStmt, RaiseStmt)


def _leaves_loop(block: Node) -> bool:
    body = block.body  # type: ignore[attr-defined]
    return bool(body) and type(body[-1]) in _EXITS


def access_text(member: MemberExpr) -> str:
    parts = [member.name]
    node = member.expr
    while isinstance(node, MemberExpr):
        parts.append(node.name)
        node = node.expr
    parts.append(node.name if isinstance(node, NameExpr) else f"<{id(node)}>")
    return ".".join(reversed(parts))


def _children(node: Node) -> list[Node | None]:
    """Children evaluated in the same loop context as the node."""
    kind = type(node)
    if kind is ExpressionStmt or kind is AwaitExpr or kind is StarExpr or kind is CastExpr:
        return [node.expr]  # type: ignore[attr-defined]
    if kind is CallExpr:
        return [node.callee, *node.args]  # type: ignore[attr-defined]
    if kind is MemberExpr:
        return [node.expr]  # type: ignore[attr-defined]
    if kind is Block:
        return list(node.body)  # type: ignore[attr-defined]
    if kind is ReturnStmt or kind is YieldExpr or kind is YieldFromExpr:
        return [node.expr]  # type: ignore[attr-defined]
    if kind is IfStmt:
        return [*node.expr, *node.body, node.else_body]  # type: ignore[attr-defined]
    if kind is OpExpr:
        return [node.left, node.right]  # type: ignore[attr-defined]
    if kind is ComparisonExpr:
        return list(node.operands)  # type: ignore[attr-defined]
    if kind is UnaryExpr:
        return [node.expr]  # type: ignore[attr-defined]
    if kind is IndexExpr:
        return [node.base, node.index]  # type: ignore[attr-defined]
    if kind is ListExpr or kind is TupleExpr or kind is SetExpr:
        return list(node.items)  # type: ignore[attr-defined]
    if kind is DictExpr:
        return [part for pair in node.items for part in pair]  # type: ignore[attr-defined]
    if kind is ConditionalExpr:
        return [node.cond, node.if_expr, node.else_expr]  # type: ignore[attr-defined]
    if kind is WithStmt:
        return [*node.expr, *node.target, node.body]  # type: ignore[attr-defined]
    if kind is TryStmt:
        return [node.body, *node.handlers, node.else_body, node.finally_body]  # type: ignore[attr-defined]
    if kind is SliceExpr:
        return [node.begin_index, node.end_index, node.stride]  # type: ignore[attr-defined]
    if kind is AssertStmt:
        return [node.expr, node.msg]  # type: ignore[attr-defined]
    if kind is RaiseStmt:
        return [node.expr, node.from_expr]  # type: ignore[attr-defined]
    if kind is DelStmt:
        return [node.expr]  # type: ignore[attr-defined]
    if kind is LambdaExpr:
        return [node.body]  # type: ignore[attr-defined]
    return []


class _Mapper:
    def __init__(self) -> None:
        self.map = FunctionMap()

    def walk(self, node: Node | None, frame: Frame | None) -> None:
        if node is None:
            return
        kind = type(node)
        if kind is MemberExpr:
            self.map.attribute_names.add(node.name)  # type: ignore[attr-defined]
            if frame is not None:
                self.map.frame_of[id(node)] = frame
                self.map.members_in_loops.append(node)  # type: ignore[arg-type]
                key = (id(frame), access_text(node))  # type: ignore[arg-type]
                self.map.first_access.setdefault(key, id(node))
        elif kind is Block and frame is not None and _leaves_loop(node):
            before = len(self.map.members_in_loops)
            for child in node.body:  # type: ignore[attr-defined]
                self.walk(child, frame)
            self.map.leaving.update(id(m) for m in self.map.members_in_loops[before:])
            return
        elif kind is CallExpr:
            callee = node.callee  # type: ignore[attr-defined]
            self.map.calls.append(node)  # type: ignore[arg-type]
            if isinstance(callee, (NameExpr, MemberExpr)) and callee.name == "prefetch_related_objects":
                self.map.prefetches = True
            if isinstance(callee, MemberExpr):
                self.map.method_on[id(callee.expr)] = callee.name
                self.map.call_on[id(callee.expr)] = node  # type: ignore[assignment]
            for argument in node.args:  # type: ignore[attr-defined]
                self.map.argument_of[id(argument)] = node  # type: ignore[assignment]
        elif kind is ReturnStmt:
            if node.expr is not None:  # type: ignore[attr-defined]
                self.map.returned.add(id(node.expr))  # type: ignore[attr-defined]
        elif kind is AssignmentStmt:
            for lvalue in node.lvalues:  # type: ignore[attr-defined]
                if isinstance(lvalue, NameExpr):
                    self.map.assignments.setdefault(lvalue.name, []).append(node.rvalue)  # type: ignore[attr-defined]
                    self.map.assigned_to[id(node.rvalue)] = lvalue.name  # type: ignore[attr-defined]
                elif isinstance(lvalue, MemberExpr):
                    self.map.assigned.add(id(lvalue))
                else:
                    for name in _target_names(lvalue):
                        self.map.params.add(name)  # unpacked: treat as unknown
                self.walk(lvalue, frame)
            self.walk(node.rvalue, frame)  # type: ignore[attr-defined]
            return
        elif kind is OperatorAssignmentStmt:
            self.walk(node.rvalue, frame)  # type: ignore[attr-defined]
            return
        elif kind is AssignmentExpr:
            self.map.assignments.setdefault(node.target.name, []).append(node.value)  # type: ignore[attr-defined]
            self.walk(node.value, frame)  # type: ignore[attr-defined]
            return
        elif kind is ForStmt:
            self.walk(node.expr, frame)  # type: ignore[attr-defined]
            inner = Frame(node.expr, node.index, frame)  # type: ignore[attr-defined]
            self._bind(node.index, inner)  # type: ignore[attr-defined]
            self.walk(node.body, inner)  # type: ignore[attr-defined]
            self.walk(node.else_body, frame)  # type: ignore[attr-defined]
            return
        elif kind is WhileStmt:
            inner = Frame(None, None, frame)
            self.walk(node.expr, inner)  # type: ignore[attr-defined]
            self.walk(node.body, inner)  # type: ignore[attr-defined]
            self.walk(node.else_body, frame)  # type: ignore[attr-defined]
            return
        elif kind is ListComprehension or kind is SetComprehension:
            self.walk(node.generator, frame)  # type: ignore[attr-defined]
            return
        elif kind is GeneratorExpr or kind is DictionaryComprehension:
            self._comprehension(node, frame)
            return
        elif kind is FuncDef or kind is Decorator:
            return  # a nested function runs when called, mapped on its own
        for child in _children(node):
            self.walk(child, frame)

    def _comprehension(self, node: Node, frame: Frame | None) -> None:
        current = frame
        parts = zip(node.sequences, node.indices, node.condlists)  # type: ignore[attr-defined]
        for sequence, index, conditions in parts:
            self.walk(sequence, current)
            current = Frame(sequence, index, current)
            self._bind(index, current)
            for condition in conditions:
                self.walk(condition, current)
        if isinstance(node, DictionaryComprehension):
            self.walk(node.key, current)
            self.walk(node.value, current)
        else:
            self.walk(node.left_expr, current)  # type: ignore[attr-defined]

    def _bind(self, target: Expression, frame: Frame) -> None:
        for name in _target_names(target):
            self.map.loop_bindings.setdefault(name, []).append(frame)
        self.walk(target, frame)


def map_function(function: FuncDef | LambdaExpr | MypyFile) -> FunctionMap:
    mapper = _Mapper()
    if isinstance(function, MypyFile):
        for definition in function.defs:
            mapper.walk(definition, None)
        return mapper.map
    mapper.map.is_async = bool(getattr(function, "is_coroutine", False))
    for argument in function.arguments:
        mapper.map.params.add(argument.variable.name)
    mapper.walk(function.body, None)
    return mapper.map
