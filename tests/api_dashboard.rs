//! The dashboard is served from the binary: `/` and every file it loads, with content types,
//! revalidation headers and `304` for an unchanged file.

mod common;

use common::TestServer;

#[tokio::test]
async fn the_page_and_its_files_are_served_with_types_and_validators() {
    let s = TestServer::start().await;
    let page = s.client.get(s.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    assert!(header(&page, "etag").starts_with('"'));
    let html = page.text().await.unwrap();
    assert!(html.contains("<main id=\"main\""));

    // Every /ui/ file the page references loads with the right type.
    let mut referenced = 0;
    for part in html.split("\"/ui/").skip(1) {
        let file = &part[..part.find('"').unwrap()];
        let r = s
            .client
            .get(s.url(&format!("/ui/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{file}");
        let expected = if file.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        assert_eq!(header(&r, "content-type"), expected, "{file}");
        referenced += 1;
    }
    assert_eq!(referenced, 2, "style.css and app.js");

    // An unchanged file costs a 304.
    let js = s.client.get(s.url("/ui/app.js")).send().await.unwrap();
    let etag = header(&js, "etag");
    let again = s
        .client
        .get(s.url("/ui/app.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    let (status, problem) = s.get("/ui/nothing.js").await;
    assert_eq!(status, 404);
    assert!(problem["detail"].as_str().unwrap().contains("nothing.js"));
    s.stop().await;
}
