//! Pushing to ECR: the registry login from GetAuthorizationToken. The token is a base64
//! `AWS:<password>` pair valid for 12 hours; it is held as a [`Secret`] and handed to the
//! engine's push directly, never written to a docker config file or to the store.

use base64::Engine;
use slipway_core::pipeline::engine::RegistryAuth;
use slipway_core::providers::AwsTarget;
use slipway_core::secrets::Secret;
use slipway_core::UserError;

/// The account's ECR registry (`<account>.dkr.ecr.<region>.amazonaws.com`, no scheme) and the
/// login for it.
pub async fn registry_login(target: &AwsTarget, region: &str) -> Result<(String, RegistryAuth), UserError> {
    let cfg = crate::sdk_config(target, region).await?;
    let ecr = aws_sdk_ecr::Client::new(&cfg);
    let out = ecr.get_authorization_token().send().await.map_err(|e| {
        crate::errors::to_user_error("ECR login (GetAuthorizationToken)", &e, &target.source, crate::effective_endpoint(target).as_deref())
    })?;
    let data = out.authorization_data().first().ok_or_else(|| bad_answer("it held no authorization data"))?;
    let endpoint = data.proxy_endpoint().ok_or_else(|| bad_answer("it named no registry"))?;
    let token = data.authorization_token().ok_or_else(|| bad_answer("it held no token"))?;
    let (username, password) = decode(token)?;
    let server = endpoint.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/').to_string();
    Ok((server.clone(), RegistryAuth { server, username, password }))
}

fn bad_answer(why: &str) -> UserError {
    UserError::new(
        "ECR login failed",
        format!("AWS answered GetAuthorizationToken, but {why}"),
        "Try again; if it keeps failing, check the AWS connection with `slipway doctor`",
    )
}

/// `base64("AWS:<password>")` as user and password; nothing of the token reaches a message.
fn decode(token: &str) -> Result<(String, Secret), UserError> {
    let raw = base64::engine::general_purpose::STANDARD.decode(token.trim()).map_err(|_| bad_answer("its token is not base64"))?;
    let text = String::from_utf8(raw).map_err(|_| bad_answer("its token is not text"))?;
    let (user, password) = text.split_once(':').ok_or_else(|| bad_answer("its token is not user:password"))?;
    if user.is_empty() || password.is_empty() {
        return Err(bad_answer("its token has an empty user or password"));
    }
    Ok((user.to_string(), Secret::new(password)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_split_into_user_and_password_and_bad_ones_say_so_without_the_token() {
        let token = base64::engine::general_purpose::STANDARD.encode("AWS:s3cr3t-pass:with-colon");
        let (user, pw) = decode(&token).unwrap();
        assert_eq!(user, "AWS");
        assert_eq!(pw.expose(), "s3cr3t-pass:with-colon");
        assert_eq!(format!("{pw:?}"), format!("{:?}", Secret::new("x")), "the password prints redacted");
        for bad in ["not base64!", &base64::engine::general_purpose::STANDARD.encode("no-colon-here"), &base64::engine::general_purpose::STANDARD.encode(":")] {
            let e = decode(bad).unwrap_err();
            assert_eq!(e.what, "ECR login failed");
            assert!(!e.to_string().contains("no-colon-here"), "{e}");
        }
    }
}
