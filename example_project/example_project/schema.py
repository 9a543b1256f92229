"""The example host's OpenAPI description: the package's endpoints and the host's auth/."""

from django_torgovo_subscriptions.api.schema import package_endpoints_only


def package_and_auth_endpoints(endpoints: list, **kwargs) -> list:
    """drf-spectacular preprocessing hook: the package's endpoints, and api/auth/ (tokens)."""
    package = package_endpoints_only(endpoints, **kwargs)
    return [
        endpoint
        for endpoint in endpoints
        if endpoint in package or endpoint[0].startswith("/api/auth/")
    ]
