//! An actix-web application with its own users, and the reset routes mounted under `/auth`.
//! `cargo run -p reset-examples --bin actix-app`, then see the README's "Embedding" section.

use actix_web::{App, HttpResponse, HttpServer, web};
use reset_examples::{HostUsers, Login, port, setup};

async fn login(users: web::Data<HostUsers>, body: web::Json<Login>) -> HttpResponse {
    if users.login(&body.username, &body.password).await {
        HttpResponse::Ok().finish()
    } else {
        HttpResponse::Unauthorized().finish()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port = port();
    let (users, api, worker) = setup(port).await?;
    println!("actix-app on http://127.0.0.1:{port} (reset routes under /auth)");
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(users.clone()))
            .route("/login", web::post().to(login))
            .service(web::scope("/auth").configure(reset_actix::configure(api.clone())))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await?;
    // actix-web stops gracefully on SIGINT/SIGTERM; reset requests already answered 202 are
    // written before the process ends.
    worker.shutdown().await;
    Ok(())
}
