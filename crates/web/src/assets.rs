//! Stylesheet, script and icons, embedded in the binary: Maillage works on a hospital LAN with no Internet.

use crate::access::{Access, GuardedRouter};
use crate::error::WebError;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 6] = [
    Asset {
        name: "maillage.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/maillage.css"),
    },
    Asset {
        // htmx 2.0.11 (BSD Zero Clause License), from the npm package htmx.org; see scripts/vendor-assets.sh.
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/htmx.min.js"),
    },
    Asset {
        // Folds the missions menu on a phone (our own, a few lines).
        name: "menu.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/menu.js"),
    },
    Asset {
        // Marks and focuses the fields a refused form names (our own, a few lines).
        name: "forms.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/forms.js"),
    },
    Asset {
        name: "logo.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../assets/logo.svg"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../assets/favicon.svg"),
    },
];

async fn asset(Path(name): Path<String>) -> Result<Response, WebError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or(WebError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        asset.bytes,
    )
        .into_response())
}

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router.get(
        "/static/{name}",
        Access::Public,
        "Feuille de style, script et icônes intégrés",
        asset,
    )
}
