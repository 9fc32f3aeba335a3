"""The federation door for API routes and pages: `runtime.federation()`.

One class made of three parts, each in its own module: the documents this instance serves
(`publishing`), the inbox and remote accounts (`receiving`), and the delivery queue with the
hosts it talks to (`sending`)."""

from __future__ import annotations

from clawnet.social.federation.publishing import FederationPublishing
from clawnet.social.federation.receiving import FederationReceiving
from clawnet.social.federation.sending import FederationSending


class FederationService(FederationPublishing, FederationReceiving, FederationSending):
    pass
