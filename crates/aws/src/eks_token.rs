//! The bearer token an EKS cluster accepts, made the way `aws eks get-token` makes it: a
//! presigned STS GetCallerIdentity URL (SigV4 query signing, valid 60 s, with the header
//! `x-k8s-aws-id: <cluster>` signed in), then `k8s-aws-v1.` + base64url without padding.
//!
//! The STS client of the Rust SDK cannot presign, so the URL is signed here with `aws-sigv4`.
//! The payload hash is the empty body's and the query parameters are written in botocore's
//! order, so for the same inputs and clock the token is byte for byte the AWS CLI's.
//!
//! [`exec_credential_json`] is what the `slipway eks-token` exec plugin prints for kubectl and
//! kube-rs (an `ExecCredential` of `client.authentication.k8s.io/v1beta1`).

use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_types::date_time::{DateTime, Format};
use base64::Engine as _;
use slipway_core::connections::AwsSource;
use slipway_core::providers::AwsTarget;
use slipway_core::secrets::Secret;
use slipway_core::UserError;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What every EKS token starts with.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The header that binds the presigned URL to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// How long the presigned URL is valid for (`X-Amz-Expires`), as the AWS CLI signs it.
pub const URL_EXPIRES: Duration = Duration::from_secs(60);
/// The lifetime the AWS CLI reports for a token (EKS accepts one for 15 minutes).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);
/// The ExecCredential API version the exec plugin speaks.
pub const EXEC_API_VERSION: &str = "client.authentication.k8s.io/v1beta1";

const WHAT: &str = "Making an EKS token failed";

/// The order botocore writes the presigning parameters in.
const QUERY_ORDER: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
];

/// A token for one EKS cluster and the moment kubectl should ask for a new one.
#[derive(Clone, Debug)]
pub struct EksToken {
    /// `k8s-aws-v1.<base64url of the presigned URL>`; prints as `[redacted]`.
    pub token: Secret,
    /// `now + 14 min`, whole seconds, as `aws eks get-token` reports it.
    pub expires_at: SystemTime,
}

impl EksToken {
    /// The expiry as RFC 3339 in UTC with whole seconds, e.g. `2026-01-02T03:18:05Z`.
    pub fn expires_at_rfc3339(&self) -> String {
        rfc3339(self.expires_at)
    }
}

fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    DateTime::from_secs(secs).fmt(Format::DateTime).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// The regional STS host the token is signed for (`sts.<region>.amazonaws.com`, `.com.cn` in
/// the China partition), as the AWS CLI v2 uses it.
pub fn sts_host(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("sts.{region}.amazonaws.com.cn")
    } else {
        format!("sts.{region}.amazonaws.com")
    }
}

/// EKS cluster names: 1-100 characters, a letter or digit first, then letters, digits, `-`, `_`.
fn check_cluster_name(cluster: &str) -> Result<(), UserError> {
    let ok = !cluster.is_empty()
        && cluster.len() <= 100
        && cluster.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && cluster.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(UserError::new(
            WHAT,
            format!("'{cluster}' is not an EKS cluster name (1-100 letters, digits, '-' or '_', starting with a letter or digit)"),
            "Pass the cluster's name as the EKS console or `slipway` lists it (--cluster NAME)",
        ))
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters (what SigV4 and
/// botocore use for query values).
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The presigned STS GetCallerIdentity URL for `cluster`, signed at `now`.
pub fn presigned_url(cluster: &str, region: &str, creds: &Credentials, now: SystemTime) -> Result<String, UserError> {
    check_cluster_name(cluster)?;
    if !slipway_core::providers::is_region_name(region) {
        return Err(UserError::new(WHAT, format!("'{region}' is not an AWS region code"), "Pass the cluster's region, such as us-east-1 (--region REGION)"));
    }
    let signing_failed = |e: &(dyn std::error::Error + 'static)| {
        UserError::new(
            WHAT,
            format!("the STS request could not be signed: {}", crate::errors::error_chain(e)),
            "Check the AWS credentials (access key id and secret), then try again",
        )
    };

    let host = sts_host(region);
    let base = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let identity: Identity = creds.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(URL_EXPIRES);
    let params: aws_sigv4::http_request::SigningParams<'_> = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| signing_failed(&e))?
        .into();
    // The payload hash is that of the empty body, as botocore (not S3's UNSIGNED-PAYLOAD) and
    // aws-iam-authenticator sign it.
    let request = SignableRequest::new("GET", base.as_str(), std::iter::once((CLUSTER_ID_HEADER, cluster)), SignableBody::Bytes(&[]))
        .map_err(|e| signing_failed(&e))?;
    let (instructions, _signature) = sign(request, &params).map_err(|e| signing_failed(&e))?.into_parts();

    let mut signed: Vec<(&str, &str)> = instructions.params().iter().map(|(k, v)| (*k, v.as_ref())).collect();
    // In botocore's order (the order does not change the signature); anything else before the
    // signature, which comes last.
    signed.sort_by_key(|(k, _)| QUERY_ORDER.iter().position(|o| o == k).unwrap_or(QUERY_ORDER.len() - 1));
    let mut url = base;
    for (k, v) in signed {
        url.push('&');
        url.push_str(k);
        url.push('=');
        url.push_str(&uri_encode(v));
    }
    Ok(url)
}

/// The token `aws eks get-token --cluster-name <cluster> --region <region>` gives for these
/// credentials at `now`.
pub fn eks_token(cluster: &str, region: &str, creds: &Credentials, now: SystemTime) -> Result<EksToken, UserError> {
    let url = presigned_url(cluster, region, creds, now)?;
    let token = format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url.as_bytes()));
    let whole_secs = now.duration_since(UNIX_EPOCH).map(|d| Duration::from_secs(d.as_secs())).unwrap_or_default();
    Ok(EksToken { token: Secret::new(token), expires_at: UNIX_EPOCH + whole_secs + TOKEN_LIFETIME })
}

fn fix_for(source: &AwsSource) -> String {
    match source {
        AwsSource::Profile { name } => format!(
            "Check profile '{name}' in ~/.aws/config and ~/.aws/credentials (for SSO, run `aws sso login --profile {name}`), or reconnect AWS with another profile"
        ),
        AwsSource::StaticKeys { .. } => "Enter the access key id and secret access key again on the Connect page (or `slipway connect aws`)".into(),
        AwsSource::Environment => "Check the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE variables, or reconnect AWS with a profile".into(),
        AwsSource::Sandbox => "Restart the sandbox (`slipway sandbox down && slipway sandbox up`)".into(),
    }
}

/// A token for `cluster` with the credentials of `target` (its region is the cluster's).
pub async fn eks_token_for(target: &AwsTarget, cluster: &str) -> Result<EksToken, UserError> {
    let cfg = crate::sdk_config(target, &target.region).await?;
    let provider = cfg.credentials_provider().ok_or_else(|| {
        UserError::new(WHAT, "no AWS credentials are configured for this connection", fix_for(&target.source))
    })?;
    let creds = provider.provide_credentials().await.map_err(|e| {
        UserError::new(
            WHAT,
            format!("the AWS credentials could not be loaded: {}", crate::errors::error_chain(&e)),
            fix_for(&target.source),
        )
    })?;
    eks_token(cluster, &target.region, &creds, SystemTime::now())
}

/// The `ExecCredential` the `slipway eks-token` exec plugin prints on stdout.
pub fn exec_credential_json(token: &EksToken) -> String {
    serde_json::json!({
        "kind": "ExecCredential",
        "apiVersion": EXEC_API_VERSION,
        "spec": {},
        "status": {
            "expirationTimestamp": token.expires_at_rfc3339(),
            "token": token.token.expose(),
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    use slipway_core::providers::AwsKeys;

    const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const SESSION: &str = "FwoGZXIvYXdzEXAMPLE+/token==";

    /// 2026-01-02T03:04:05Z
    fn fixed_now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_767_323_045)
    }

    fn creds(session: Option<&str>) -> Credentials {
        Credentials::new(AKID, SECRET, session.map(str::to_string), None, "test")
    }

    fn decode_token(t: &EksToken) -> String {
        let body = t.token.expose().strip_prefix(TOKEN_PREFIX).expect("token prefix");
        assert!(!body.contains('='), "no padding: {body}");
        assert!(!body.contains('+') && !body.contains('/'), "base64url alphabet: {body}");
        String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap()
    }

    fn percent_decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    /// (scheme://host/path, decoded query pairs in URL order)
    fn split_url(url: &str) -> (String, Vec<(String, String)>) {
        let (base, query) = url.split_once('?').unwrap();
        let pairs = query
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        (base.to_string(), pairs)
    }

    fn get<'a>(pairs: &'a [(String, String)], k: &str) -> Option<&'a str> {
        pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }

    // --- An independent SigV4 (query signing) from the spec, to check the signer against. ---

    fn hmac_sha256(key: &[u8], data: &str) -> Vec<u8> {
        let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
        m.update(data.as_bytes());
        m.finalize().into_bytes().to_vec()
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn spec_encode(s: &str) -> String {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect()
    }

    /// The query parameters the spec says a presigned GetCallerIdentity carries (all but the
    /// signature), decoded.
    fn expected_params(region: &str, session: Option<&str>) -> Vec<(String, String)> {
        let mut p = vec![
            ("Action", "GetCallerIdentity".to_string()),
            ("Version", "2011-06-15".to_string()),
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_string()),
            ("X-Amz-Credential", format!("{AKID}/20260102/{region}/sts/aws4_request")),
            ("X-Amz-Date", "20260102T030405Z".to_string()),
            ("X-Amz-Expires", "60".to_string()),
            ("X-Amz-SignedHeaders", "host;x-k8s-aws-id".to_string()),
        ];
        if let Some(t) = session {
            p.push(("X-Amz-Security-Token", t.to_string()));
        }
        p.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// SHA-256 of the empty body: a GET's payload hash.
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn spec_signature(region: &str, cluster: &str, params: &[(String, String)]) -> String {
        let mut enc: Vec<(String, String)> = params.iter().map(|(k, v)| (spec_encode(k), spec_encode(v))).collect();
        enc.sort();
        let canonical_query = enc.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        let host = if region.starts_with("cn-") { format!("sts.{region}.amazonaws.com.cn") } else { format!("sts.{region}.amazonaws.com") };
        let canonical_request = format!(
            "GET\n/\n{canonical_query}\nhost:{host}\nx-k8s-aws-id:{cluster}\n\nhost;x-k8s-aws-id\n{EMPTY_SHA256}"
        );
        let scope = format!("20260102/{region}/sts/aws4_request");
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n20260102T030405Z\n{scope}\n{}",
            hex(&Sha256::digest(canonical_request.as_bytes()))
        );
        let k_date = hmac_sha256(format!("AWS4{SECRET}").as_bytes(), "20260102");
        let k_region = hmac_sha256(&k_date, region);
        let k_service = hmac_sha256(&k_region, "sts");
        let k_signing = hmac_sha256(&k_service, "aws4_request");
        hex(&hmac_sha256(&k_signing, &string_to_sign))
    }

    fn check_token(cluster: &str, region: &str, session: Option<&str>) -> (EksToken, String) {
        let t = eks_token(cluster, region, &creds(session), fixed_now()).unwrap();
        let url = decode_token(&t);
        let (base, pairs) = split_url(&url);
        assert_eq!(base, format!("https://sts.{region}.amazonaws.com/"));
        assert_eq!(get(&pairs, "Action"), Some("GetCallerIdentity"));
        assert_eq!(get(&pairs, "Version"), Some("2011-06-15"));
        assert_eq!(get(&pairs, "X-Amz-Algorithm"), Some("AWS4-HMAC-SHA256"));
        let credential = get(&pairs, "X-Amz-Credential").unwrap();
        assert_eq!(credential, format!("{AKID}/20260102/{region}/sts/aws4_request"));
        assert_eq!(get(&pairs, "X-Amz-Date"), Some("20260102T030405Z"));
        assert_eq!(get(&pairs, "X-Amz-Expires"), Some("60"));
        let signed_headers = get(&pairs, "X-Amz-SignedHeaders").unwrap();
        assert!(signed_headers.split(';').any(|h| h == "host") && signed_headers.split(';').any(|h| h == "x-k8s-aws-id"), "{signed_headers}");
        assert_eq!(get(&pairs, "X-Amz-Security-Token"), session);

        // Exactly the spec's parameters plus the signature, the signature last.
        let (last_k, signature) = pairs.last().unwrap().clone();
        assert_eq!(last_k, "X-Amz-Signature");
        let mut rest: Vec<_> = pairs[..pairs.len() - 1].to_vec();
        let mut want = expected_params(region, session);
        rest.sort();
        want.sort();
        assert_eq!(rest, want);

        assert_eq!(signature.len(), 64);
        assert_eq!(signature, spec_signature(region, cluster, &expected_params(region, session)), "signature differs from the spec's");
        (t, url)
    }

    #[test]
    fn token_is_a_presigned_get_caller_identity_signed_per_spec() {
        let (t, _) = check_token("demo", "us-west-2", None);
        // now + 14 min
        assert_eq!(t.expires_at, fixed_now() + Duration::from_secs(840));
        assert_eq!(t.expires_at_rfc3339(), "2026-01-02T03:18:05Z");
    }

    #[test]
    fn session_token_is_signed_into_the_url() {
        let (_, url) = check_token("team-a_prod", "eu-central-1", Some(SESSION));
        // '+', '/' and '=' are percent-encoded in the URL.
        assert!(url.contains("X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE%2B%2Ftoken%3D%3D&X-Amz-Signature="), "{url}");
    }

    #[test]
    fn signature_depends_on_the_cluster_and_the_secret() {
        let a = decode_token(&eks_token("one", "us-east-1", &creds(None), fixed_now()).unwrap());
        let b = decode_token(&eks_token("two", "us-east-1", &creds(None), fixed_now()).unwrap());
        let other = Credentials::new(AKID, "another-secret", None, None, "test");
        let c = decode_token(&eks_token("one", "us-east-1", &other, fixed_now()).unwrap());
        let sig = |u: &str| get(&split_url(u).1, "X-Amz-Signature").unwrap().to_string();
        assert_ne!(sig(&a), sig(&b));
        assert_ne!(sig(&a), sig(&c));
    }

    /// The same inputs through botocore 1.44.8 (the AWS CLI's signer) with its clock frozen at
    /// 2026-01-02T03:04:05Z, hooked up exactly as `aws eks get-token` does (presign
    /// get_caller_identity, ExpiresIn=60, GET, header x-k8s-aws-id injected before signing).
    #[test]
    fn token_matches_the_aws_cli_byte_for_byte() {
        let t = eks_token("demo", "us-west-2", &creds(None), fixed_now()).unwrap();
        assert_eq!(
            t.token.expose(),
            "k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtd2VzdC0yLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BS0lBSU9TRk9ETk43RVhBTVBMRSUyRjIwMjYwMTAyJTJGdXMtd2VzdC0yJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNjAxMDJUMDMwNDA1WiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TaWduYXR1cmU9NTg0M2ZiZTBhYTBkYzEyZTRjNDEyYTc4NzVmYzMyMjI2OTU4ZDc4OGJmYjBlYzBkNTc0MTZkNmU0M2Y5ZDJjZA"
        );
        let t = eks_token("demo", "eu-central-1", &creds(Some(SESSION)), fixed_now()).unwrap();
        assert_eq!(
            decode_token(&t),
            "https://sts.eu-central-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260102%2Feu-central-1%2Fsts%2Faws4_request&X-Amz-Date=20260102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE%2B%2Ftoken%3D%3D&X-Amz-Signature=a76a997038420331a4f4451a0bb382f0cdea0825b794d0cc2bcbb1e4b53efb4d"
        );
    }

    #[test]
    fn china_regions_use_the_com_cn_host() {
        let t = eks_token("demo", "cn-north-1", &creds(None), fixed_now()).unwrap();
        let url = decode_token(&t);
        assert!(url.starts_with("https://sts.cn-north-1.amazonaws.com.cn/?Action=GetCallerIdentity&"), "{url}");
        let (_, pairs) = split_url(&url);
        assert_eq!(get(&pairs, "X-Amz-Signature").unwrap(), spec_signature("cn-north-1", "demo", &expected_params("cn-north-1", None)));
    }

    #[test]
    fn bad_cluster_or_region_is_a_clear_error() {
        let long = "x".repeat(101);
        for bad in ["", "-lead", "has space", "new\nline", long.as_str()] {
            let e = eks_token(bad, "us-east-1", &creds(None), fixed_now()).unwrap_err();
            assert_eq!(e.what, WHAT);
            assert!(e.why.contains("is not an EKS cluster name"), "{e}");
        }
        let e = eks_token("demo", "mars", &creds(None), fixed_now()).unwrap_err();
        assert!(e.why.contains("'mars' is not an AWS region code"), "{e}");
    }

    #[test]
    fn token_never_prints() {
        let t = eks_token("demo", "us-east-1", &creds(Some(SESSION)), fixed_now()).unwrap();
        let dbg = format!("{t:?}");
        assert!(!dbg.contains(TOKEN_PREFIX) && dbg.contains("[redacted]"), "{dbg}");
    }

    #[test]
    fn exec_credential_is_what_kubectl_reads() {
        let t = eks_token("demo", "us-west-2", &creds(None), fixed_now()).unwrap();
        let json = exec_credential_json(&t);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["apiVersion"], "client.authentication.k8s.io/v1beta1");
        assert_eq!(v["kind"], "ExecCredential");
        assert_eq!(v["status"]["token"], t.token.expose());
        assert_eq!(v["status"]["expirationTimestamp"], "2026-01-02T03:18:05Z");
        assert!(v["spec"].is_object());
        assert!(!json.contains('\n'), "one line: {json}");
    }

    #[test]
    fn expiry_drops_sub_seconds() {
        let t = eks_token("demo", "us-west-2", &creds(None), fixed_now() + Duration::from_millis(750)).unwrap();
        assert_eq!(t.expires_at_rfc3339(), "2026-01-02T03:18:05Z");
    }

    fn target(source: AwsSource, keys: Option<AwsKeys>) -> AwsTarget {
        AwsTarget { source, region: "us-east-2".into(), endpoint: None, keys }
    }

    #[tokio::test]
    async fn eks_token_for_uses_the_targets_credentials() {
        let keys = AwsKeys { access_key_id: AKID.into(), secret_access_key: Secret::new(SECRET), session_token: Some(Secret::new(SESSION)) };
        let t = eks_token_for(&target(AwsSource::StaticKeys { access_key_id: AKID.into() }, Some(keys)), "demo").await.unwrap();
        let (base, pairs) = split_url(&decode_token(&t));
        assert_eq!(base, "https://sts.us-east-2.amazonaws.com/");
        assert!(get(&pairs, "X-Amz-Credential").unwrap().starts_with(&format!("{AKID}/")));
        assert!(get(&pairs, "X-Amz-Credential").unwrap().ends_with("/us-east-2/sts/aws4_request"));
        assert_eq!(get(&pairs, "X-Amz-Security-Token"), Some(SESSION));
        let left = t.expires_at.duration_since(SystemTime::now()).unwrap();
        assert!(left > Duration::from_secs(13 * 60) && left <= TOKEN_LIFETIME, "{left:?}");

        let t = eks_token_for(&target(AwsSource::Sandbox, None), "demo").await.unwrap();
        let (_, pairs) = split_url(&decode_token(&t));
        assert!(get(&pairs, "X-Amz-Credential").unwrap().starts_with(&format!("{}/", crate::SANDBOX_KEY)));
    }

    #[tokio::test]
    async fn eks_token_for_without_keys_says_so() {
        let e = eks_token_for(&target(AwsSource::StaticKeys { access_key_id: AKID.into() }, None), "demo").await.unwrap_err();
        assert_eq!(e.what, "AWS keys missing");
    }
}
