"""The official Huawei Cloud IAM SDK (huaweicloudsdkiam), unchanged, parses every answer of the
emulator's POST /v3/auth/tokens: a token (domain-scoped when no scope is asked, D14) and a wrong password
in Keystone's error body."""


import pytest
from conftest import emulator_with
from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkiam.v3 import (
    IamClient,
    KeystoneCreateUserTokenByPasswordRequest,
    KeystoneCreateUserTokenByPasswordRequestBody,
    PwdAuth,
    PwdIdentity,
    PwdPassword,
    PwdPasswordUser,
    PwdPasswordUserDomain,
)

CONFIG = """
[[auth.users]]
name = "alice"
password = "alice-password"
domain = "acme"
"""


@pytest.fixture(scope="module")
def emulator():
    with emulator_with(CONFIG) as url:
        yield url


def iam(url):
    # The token API needs no credentials; the SDK's builder wants some all the same.
    credentials = GlobalCredentials("HPUAEXAMPLEAK1234567", "ExampleSecretKey0123456789abcdefghijklmnop")
    return IamClient.new_builder().with_credentials(credentials).with_endpoints([url]).build()


def password_request(password):
    user = PwdPasswordUser(domain=PwdPasswordUserDomain(name="acme"), name="alice", password=password)
    identity = PwdIdentity(methods=["password"], password=PwdPassword(user=user))
    return KeystoneCreateUserTokenByPasswordRequest(
        body=KeystoneCreateUserTokenByPasswordRequestBody(auth=PwdAuth(identity=identity)))


def test_the_iam_sdk_gets_a_domain_scoped_token(emulator):
    response = iam(emulator).keystone_create_user_token_by_password(password_request("alice-password"))
    assert response.x_subject_token.startswith("MIIEMU")
    assert response.token.user.name == "alice"
    assert response.token.domain.name == "acme", "no scope asked: a domain-scoped token"
    assert response.token.project is None
    assert response.token.user.password_expires_at is None
    # The catalog, as the SDK's models read it, points at the emulator (D17).
    urls = {service.type: service.endpoints[0].url for service in response.token.catalog}
    assert urls == {"roma": emulator, "identity": f"{emulator}/v3"}, urls


def test_the_iam_sdk_reads_a_wrong_password_from_keystones_body(emulator):
    with pytest.raises(ClientRequestException) as caught:
        iam(emulator).keystone_create_user_token_by_password(password_request("guess"))
    e = caught.value
    assert e.status_code == 401
    assert e.error_msg == "The username or password is wrong."
    assert len(e.request_id) == 32, "the request id comes from X-Request-Id"
