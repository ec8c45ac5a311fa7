"""The gofail runtime's answers, read: a body, or the one exception an answer means (one place)."""

from __future__ import annotations

import re

from gofail_py.errors import FailpointDisabled, FailpointNotFound, NotGofailEndpoint, UnexpectedResponse
from gofail_py.client.transport import ENV_ENDPOINT, Answer

# the runtime's own error texts (runtime v0.2.0); anything else comes from something that is not it
_RUNTIME_ERROR = re.compile(r"(fail to set failpoint|fail to parse failpoint|failed to GET|failed to delete failpoint)\b")
_NO_EXIST = "failpoint does not exist"
_DISABLED = "failpoint is disabled"


def raise_for(answer: Answer, endpoint: str, name: str | None, *expected: int) -> str:
    """The body when the status is expected and the answer is the runtime's; else the error it means."""
    text = answer.text
    if answer.status in expected:
        return text
    error = text.strip()
    if _RUNTIME_ERROR.match(error):
        if _NO_EXIST in error:
            raise FailpointNotFound(f"no failpoint {name} at {endpoint}" if name else
                                    f"a failpoint named in the request does not exist at {endpoint}")
        if _DISABLED in error:
            raise FailpointDisabled(f"failpoint {name} at {endpoint} is off (no terms set)")
        raise UnexpectedResponse(f"{answer.method} {answer.url}: the runtime refused it: {error}")
    raise not_gofail(answer, endpoint)


def is_not_found(answer: Answer) -> bool:
    """The runtime's 404 for a name it does not have (what a readiness probe expects)."""
    return answer.status == 404 and bool(_RUNTIME_ERROR.match(answer.text)) and _NO_EXIST in answer.text


def not_gofail(answer: Answer, endpoint: str) -> NotGofailEndpoint:
    body = answer.text.strip().splitlines()[0][:80] if answer.text.strip() else "(empty)"
    return NotGofailEndpoint(
        f"{endpoint} is not a gofail endpoint: {answer.method} {answer.url} got HTTP {answer.status} "
        f"{body!r} (is it the binary's {ENV_ENDPOINT} address, not one of its own ports?)"
    )
