"""WooCommerce: the ``woocommerce-store`` chart (WordPress, MariaDB, the wp-cli setup Job) and
its health check, the WordPress REST index at ``/wp-json/`` (JSON once the setup Job set
pretty permalinks)."""

from __future__ import annotations

from storeplane.domain.store import Engine, Store
from storeplane.engines.base import (
    EngineProfile,
    Exposure,
    HealthCheck,
    Release,
    Values,
    admin_email,
)

WORDPRESS_SERVICE = "woocommerce-wordpress"
PORT = 80

# The setup Job downloads the WooCommerce plugin from wordpress.org, which the store
# namespace's deny-by-default egress would block: the chart then renders one extra
# NetworkPolicy that lets only the setup Job's pods reach public addresses on TCP 443 (never
# private ranges or the cloud metadata address). A platform with an in-cluster mirror would
# set setup.woocommerce.source and turn this off; there is no Settings knob for it yet.
SETUP_EGRESS = True


# The official WordPress images: the server and (its cli-* tags) the setup Job's wp-cli.
IMAGE_REPOSITORY = "wordpress"


def _values(store: Store, exposure: Exposure, release: Release) -> Values:
    return {
        "image": release.image("wordpress"),
        "setup": {
            "image": release.image("wpcli"),
            "enabled": True,
            "adminEmail": admin_email(store, exposure),
            "egress": {"enabled": SETUP_EGRESS},
        },
    }


def _healthy(code: int, body: str) -> bool:
    return code == 200 and body.lstrip().startswith("{")


PROFILE = EngineProfile(
    engine=Engine.WOOCOMMERCE,
    display_name="WooCommerce",
    chart="woocommerce-store",
    # The chart runs WordPress as www-data (uid 33) and lets it bind port 80 through the
    # net.ipv4.ip_unprivileged_port_start sysctl, which "restricted" allows.
    pod_security="restricted",
    health=HealthCheck(
        service=WORDPRESS_SERVICE,
        port=PORT,
        path="/wp-json/",
        accepts=_healthy,
        expectation="HTTP 200 with the WordPress REST index (JSON)",
    ),
    default_image_repository=IMAGE_REPOSITORY,
    engine_values=_values,
)
