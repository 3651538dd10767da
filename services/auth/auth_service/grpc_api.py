"""gRPC ``cryptopredict.auth.v1.AuthService`` for internal callers: GetUser, IntrospectToken."""

from __future__ import annotations

from datetime import datetime

import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp

from auth_service import repository as repo
from auth_service.components import AuthComponents
from auth_service.domain.models import User
from cp_common.errors import BadRequest, NotFound, Unauthorized
from cp_common.grpc import GrpcServer
from cp_common.proto_enums import to_proto
from cp_common.security.jwt_verifier import MSG_EXPIRED, MSG_REVOKED
from cryptopredict.auth.v1 import auth_pb2, auth_pb2_grpc
from cryptopredict.common.v1 import users_pb2

SERVICE_NAME = "cryptopredict.auth.v1.AuthService"

_INACTIVE_BY_MESSAGE = {
    MSG_EXPIRED: auth_pb2.INACTIVE_REASON_EXPIRED,
    MSG_REVOKED: auth_pb2.INACTIVE_REASON_REVOKED,
}


def _timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def user_message(user: User) -> auth_pb2.User:
    message = auth_pb2.User(
        user_id=user.id,
        email=user.email,
        role=to_proto(users_pb2.Role, user.role.value),
        is_active=user.is_active,
        created_at=_timestamp(user.created_at),
    )
    if user.last_login_at is not None:
        message.last_login_at.CopyFrom(_timestamp(user.last_login_at))
    return message


class AuthGrpcService(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, components: AuthComponents) -> None:
        self.c = components

    async def GetUser(
        self, request: auth_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.GetUserResponse:
        if not request.user_id:
            raise BadRequest("user_id is required")
        user = await repo.user_by_id(self.c.pool, request.user_id)
        if user is None:
            raise NotFound("user not found")
        return auth_pb2.GetUserResponse(user=user_message(user))

    async def IntrospectToken(
        self, request: auth_pb2.IntrospectTokenRequest, context: grpc.aio.ServicerContext
    ) -> auth_pb2.IntrospectTokenResponse:
        try:
            principal = await self.c.verifier.verify(request.token)
        except Unauthorized as exc:
            return _inactive(_INACTIVE_BY_MESSAGE.get(exc.message, auth_pb2.INACTIVE_REASON_INVALID))
        user = await repo.user_by_id(self.c.pool, principal.user_id)
        if user is None or not user.is_active:
            return _inactive(auth_pb2.INACTIVE_REASON_ACCOUNT_INACTIVE)
        return auth_pb2.IntrospectTokenResponse(
            active=True,
            user_id=principal.user_id,
            email=principal.email,
            role=to_proto(users_pb2.Role, principal.role.value),
            jti=principal.jti,
            issued_at=_timestamp(principal.issued_at),
            expires_at=_timestamp(principal.expires_at),
        )


def _inactive(reason: int) -> auth_pb2.IntrospectTokenResponse:
    return auth_pb2.IntrospectTokenResponse(active=False, inactive_reason=reason)  # type: ignore[arg-type]


def register(components: AuthComponents, server: GrpcServer) -> None:
    server.add_servicer(
        auth_pb2_grpc.add_AuthServiceServicer_to_server, AuthGrpcService(components), SERVICE_NAME
    )
