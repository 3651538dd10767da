from cryptopredict.analysis.v1 import asset_pb2 as _asset_pb2
from cryptopredict.analysis.v1 import macro_pb2 as _macro_pb2
from cryptopredict.analysis.v1 import sector_pb2 as _sector_pb2
from cryptopredict.analysis.v1 import timing_pb2 as _timing_pb2
from cryptopredict.events.v1 import cascade_pb2 as _cascade_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CascadeMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CASCADE_MODE_UNSPECIFIED: _ClassVar[CascadeMode]
    CASCADE_MODE_FULL: _ClassVar[CascadeMode]
    CASCADE_MODE_QUICK: _ClassVar[CascadeMode]
CASCADE_MODE_UNSPECIFIED: CascadeMode
CASCADE_MODE_FULL: CascadeMode
CASCADE_MODE_QUICK: CascadeMode

class RunCascadeRequest(_message.Message):
    __slots__ = ("symbols", "mode", "run_id", "trigger")
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    mode: CascadeMode
    run_id: str
    trigger: _cascade_pb2.CascadeTrigger
    def __init__(self, symbols: _Optional[_Iterable[str]] = ..., mode: _Optional[_Union[CascadeMode, str]] = ..., run_id: _Optional[str] = ..., trigger: _Optional[_Union[_cascade_pb2.CascadeTrigger, str]] = ...) -> None: ...

class RunCascadeResponse(_message.Message):
    __slots__ = ("run", "macro", "sector", "assets", "timing", "degraded_layers")
    RUN_FIELD_NUMBER: _ClassVar[int]
    MACRO_FIELD_NUMBER: _ClassVar[int]
    SECTOR_FIELD_NUMBER: _ClassVar[int]
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    TIMING_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_LAYERS_FIELD_NUMBER: _ClassVar[int]
    run: _cascade_pb2.CascadeRunUpdated
    macro: _macro_pb2.AnalyzeMacroResponse
    sector: _sector_pb2.AnalyzeSectorsResponse
    assets: _asset_pb2.SelectAssetsResponse
    timing: _timing_pb2.GenerateSignalsResponse
    degraded_layers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run: _Optional[_Union[_cascade_pb2.CascadeRunUpdated, _Mapping]] = ..., macro: _Optional[_Union[_macro_pb2.AnalyzeMacroResponse, _Mapping]] = ..., sector: _Optional[_Union[_sector_pb2.AnalyzeSectorsResponse, _Mapping]] = ..., assets: _Optional[_Union[_asset_pb2.SelectAssetsResponse, _Mapping]] = ..., timing: _Optional[_Union[_timing_pb2.GenerateSignalsResponse, _Mapping]] = ..., degraded_layers: _Optional[_Iterable[str]] = ...) -> None: ...
