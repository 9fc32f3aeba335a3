"""How UI states declare their vars and event handlers so that mypy checks them.

Reflex's own declarations are written for pyright: mypy resolves `rx.Field[dict[...]]` (or of a
dataclass) on a State class to `ArrayVar[Never]`, and an `@rx.event` method to `EventNamespace`
(it ignores a `__new__` that returns another type), so every `State.handler(arg)` would be an
error. Here the same runtime objects (`rx.Field`, `rx.field`, `rx.event`) get declarations mypy
understands:
- `Field[T]` on an instance is a `T` (handler code is checked against the var's type); on the
  class it is a `StringVar`, `NumberVar` or `BooleanVar` for plain values, and untyped (a Var)
  for lists, dicts and view models;
- `@event` turns `def handler(self, a: int)` into an `EventCallback[int]`: calling it with the
  wrong arguments in a component tree is an error.

    class BotState(rx.State):
        name: Field[str] = field("")
        cards: Field[list[BotCard]] = field(default_factory=list)

        @event
        async def rename(self, name: str) -> None: ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import reflex as rx
from typing_extensions import TypeVarTuple, Unpack

T = TypeVar("T")
P = TypeVarTuple("P")

if TYPE_CHECKING:
    from reflex.event import EventCallback
    from reflex.vars.number import BooleanVar, NumberVar
    from reflex.vars.sequence import StringVar

    class Field(Generic[T]):
        @overload
        def __get__(self: Field[bool], instance: None, owner: Any) -> BooleanVar: ...
        @overload
        def __get__(self: Field[int], instance: None, owner: Any) -> NumberVar[int]: ...
        @overload
        def __get__(self: Field[float], instance: None, owner: Any) -> NumberVar[float]: ...
        @overload
        def __get__(self: Field[str], instance: None, owner: Any) -> StringVar[str]: ...
        @overload
        def __get__(self, instance: None, owner: Any) -> Any: ...
        @overload
        def __get__(self, instance: object, owner: Any) -> T: ...
        def __get__(self, instance: object, owner: Any) -> Any: ...
        def __set__(self, instance: object, value: T) -> None: ...

    @overload
    def field(default: T) -> Field[T]: ...
    @overload
    def field(*, default_factory: Callable[[], T]) -> Field[T]: ...
    def field(default: Any = None, *, default_factory: Any = None) -> Any: ...

    @overload
    def event(func: Callable[[Any, Unpack[P]], Any], /) -> EventCallback[*P]: ...
    @overload
    def event(
        *, background: bool = ...
    ) -> Callable[[Callable[[Any, Unpack[P]], Any]], EventCallback[*P]]: ...
    def event(*args: Any, **kwargs: Any) -> Any: ...

else:
    Field = rx.Field
    field = rx.field
    event = rx.event

__all__ = ["Field", "event", "field"]
