//! The user's public address, for the blueprint's admin CIDR (who may SSH to the VMs and open
//! Jenkins): asked of a "what is my IP" service with a short timeout. Failing is normal (no
//! network, a proxy): the caller then leaves the admin CIDR unset and the plan asks for it.

use std::net::Ipv4Addr;
use std::time::Duration;

/// AWS's own answer: the address its services see, as one line of text.
pub const CHECKIP_URL: &str = "https://checkip.amazonaws.com";

/// The admin CIDR a new blueprint starts with: `127.0.0.1/32` against an emulator (the sandbox,
/// or any endpoint override, here or in AWS_ENDPOINT_URL), else the detected public address;
/// None when it cannot be detected (the plan then asks for it: never 0.0.0.0/0).
pub async fn default_admin_cidr(emulator: bool) -> Option<String> {
    let endpoint_env = std::env::var("AWS_ENDPOINT_URL").is_ok_and(|e| !e.trim().is_empty());
    if emulator || endpoint_env {
        return Some("127.0.0.1/32".into());
    }
    detect_admin_cidr(CHECKIP_URL, Duration::from_secs(2)).await
}

/// `<ip>/32` of the public IPv4 address `url` reports, or None when it cannot be had within
/// `timeout` (or the answer is not a public IPv4 address).
pub async fn detect_admin_cidr(url: &str, timeout: Duration) -> Option<String> {
    let client = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).build().ok()?;
    let resp = client.get(url).send().await.ok()?.error_for_status().ok()?;
    let body = resp.text().await.ok()?;
    cidr_of(&body)
}

/// The answer as `<ip>/32`: one IPv4 address that can be reached from the internet.
fn cidr_of(body: &str) -> Option<String> {
    let ip: Ipv4Addr = body.trim().parse().ok()?;
    let unusable = ip.is_private() || ip.is_loopback() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast();
    if unusable {
        tracing::warn!(%ip, "the public address service answered with an address that is not public");
        return None;
    }
    Some(format!("{ip}/32"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_public_ipv4_address_becomes_a_slash_32() {
        assert_eq!(cidr_of("203.0.113.7\n").as_deref(), Some("203.0.113.7/32"));
        for bad in ["", "10.1.2.3", "127.0.0.1", "0.0.0.0", "192.168.1.1", "2001:db8::1", "<html>proxy login</html>", "1.2.3.4 5.6.7.8"] {
            assert_eq!(cidr_of(bad), None, "{bad}");
        }
    }
}
