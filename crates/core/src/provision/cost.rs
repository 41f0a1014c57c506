//! Monthly cost estimates from a bundled price table (on-demand Linux prices; the table's date
//! and region are shown beside every estimate).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::model::{ResourceKind, ResourceSpec};

/// Hours in the month AWS bills by.
pub const HOURS_PER_MONTH: f64 = 730.0;

#[derive(Debug, Clone, Deserialize)]
pub struct PriceTable {
    pub date: String,
    pub region: String,
    pub currency: String,
    pub ec2_hourly: std::collections::HashMap<String, f64>,
    pub rds_hourly: std::collections::HashMap<String, f64>,
    pub rds_storage_gb_month: f64,
    pub ebs_gb_month: f64,
    pub ec2_root_volume_gb: f64,
    pub eks_cluster_hourly: f64,
    /// Every public IPv4 address, in use or not (an Elastic IP, a VM's or a node's).
    pub public_ipv4_hourly: f64,
    pub nat_gateway_hourly: f64,
    /// Per GB a NAT gateway carries.
    pub nat_gateway_data_gb: f64,
    /// The traffic the estimate assumes through a NAT gateway (image pulls, OS updates).
    pub nat_gateway_assumed_gb_month: f64,
    pub ecr_storage_gb_month: f64,
    /// The image storage the estimate assumes per repository (it keeps the newest N images).
    pub ecr_assumed_gb_per_repository: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PriceSource {
    pub date: String,
    pub region: String,
    pub currency: String,
    /// Said when the blueprint's region is not the table's.
    pub note: Option<String>,
}

impl PriceTable {
    pub fn bundled() -> Self {
        serde_json::from_str(include_str!("prices-us-east-1.json")).expect("the bundled price table is valid JSON")
    }

    pub fn source(&self, region: &str) -> PriceSource {
        PriceSource {
            date: self.date.clone(),
            region: self.region.clone(),
            currency: self.currency.clone(),
            note: (region != self.region).then(|| format!("Prices are {}'s; {region} usually costs a little more", self.region)),
        }
    }

    /// The monthly cost of one resource; None when the type is not in the table.
    pub fn monthly(&self, spec: &ResourceSpec) -> Option<f64> {
        let p = &spec.props;
        let ec2 = |t: &str| self.ec2_hourly.get(t).map(|h| h * HOURS_PER_MONTH);
        let ipv4 = self.public_ipv4_hourly * HOURS_PER_MONTH;
        let public = |k: &str| if p[k].as_bool() == Some(true) { ipv4 } else { 0.0 };
        Some(match spec.kind {
            ResourceKind::Instance => ec2(p["instanceType"].as_str()?)? + self.ec2_root_volume_gb * self.ebs_gb_month + public("publicIp"),
            ResourceKind::DbInstance => {
                self.rds_hourly.get(p["instanceClass"].as_str()?)? * HOURS_PER_MONTH
                    + p["allocatedStorage"].as_f64()? * self.rds_storage_gb_month
            }
            ResourceKind::EksCluster => self.eks_cluster_hourly * HOURS_PER_MONTH,
            ResourceKind::EksNodegroup => {
                p["desiredSize"].as_f64()? * (ec2(p["instanceType"].as_str()?)? + 20.0 * self.ebs_gb_month + public("publicIps"))
            }
            ResourceKind::ElasticIp => ipv4,
            ResourceKind::NatGateway => self.nat_gateway_hourly * HOURS_PER_MONTH + self.nat_gateway_assumed_gb_month * self.nat_gateway_data_gb,
            ResourceKind::EcrRepository => self.ecr_assumed_gb_per_repository * self.ecr_storage_gb_month,
            _ => 0.0,
        })
    }

    /// What an estimate assumes, where it depends on use rather than on the resource alone.
    pub fn note(&self, spec: &ResourceSpec) -> Option<String> {
        let p = &spec.props;
        let ipv4 = format!("${:.3} an hour per public IPv4 address", self.public_ipv4_hourly);
        match spec.kind {
            ResourceKind::NatGateway => Some(format!(
                "${:.3} an hour, plus ${:.3} per GB it carries: assumes {} GB a month (image pulls, updates)",
                self.nat_gateway_hourly, self.nat_gateway_data_gb, self.nat_gateway_assumed_gb_month
            )),
            ResourceKind::EcrRepository => Some(format!(
                "${:.2} per GB-month of images: assumes {} GB per repository",
                self.ecr_storage_gb_month, self.ecr_assumed_gb_per_repository
            )),
            ResourceKind::ElasticIp => Some(ipv4),
            ResourceKind::Instance if p["publicIp"] == true => Some(format!("includes its public IPv4 address ({ipv4})")),
            ResourceKind::EksNodegroup if p["publicIps"] == true => Some(format!("includes a public IPv4 address per node ({ipv4})")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::blueprint::Blueprint;

    #[test]
    fn every_default_resource_has_a_price_and_the_total_is_plausible() {
        let t = PriceTable::bundled();
        let total = |bp: Blueprint| -> f64 { bp.resources().iter().map(|r| t.monthly(r).unwrap_or_else(|| panic!("no price for {}", r.id))).sum() };
        // 2 x db.t3.micro + EKS + 2 x t3.medium nodes + their 2 public IPv4 addresses, about $174.
        let base = total(Blueprint::default());
        assert!((150.0..200.0).contains(&base), "{base}");
        // With the opt-in VMs: + t3.medium + t3.small and their 2 addresses, about $227.
        let all = total(Blueprint { ci_vm: true, test_vm: true, ..Blueprint::default() });
        assert!((200.0..330.0).contains(&all), "{all}");
        // The difference is the VMs' own price (their security groups and key pair are free).
        let vms: f64 = Blueprint { ci_vm: true, test_vm: true, ..Blueprint::default() }.resources().iter().filter(|r| r.kind == ResourceKind::Instance).map(|r| t.monthly(r).unwrap()).sum();
        assert!(vms > 45.0, "{vms}");
        assert!((all - base - vms).abs() < 0.01, "{all} - {base} != {vms}");
        let rs = Blueprint::default().resources();
        let eks = rs.iter().find(|r| r.id == "eks").unwrap();
        assert!((t.monthly(eks).unwrap() - 73.0).abs() < 0.01);
        assert!(t.source("eu-west-1").note.is_some());
        assert!(t.source("us-east-1").note.is_none());
    }

    #[test]
    fn nat_gateways_elastic_ips_and_repositories_are_priced_with_their_assumptions() {
        use crate::provision::blueprint::NodeSubnets;
        let t = PriceTable::bundled();
        let bp = Blueprint { node_subnets: NodeSubnets::PrivateNat, services: vec!["web".into(), "api".into()], ..Blueprint::default() };
        let rs = bp.resources();
        let spec = |id: &str| rs.iter().find(|r| r.id == id).unwrap();
        // $0.045 x 730 h + 10 GB x $0.045.
        assert!((t.monthly(spec("nat")).unwrap() - 33.30).abs() < 0.01);
        assert!(t.note(spec("nat")).unwrap().contains("assumes 10 GB a month"));
        assert!((t.monthly(spec("eip-nat")).unwrap() - 3.65).abs() < 0.01);
        assert!((t.monthly(spec("ecr-web")).unwrap() - 0.10).abs() < 0.001);
        assert!(t.note(spec("ecr-api")).unwrap().contains("assumes 1 GB per repository"));
        // Private nodes have no public address to pay for; public ones do.
        let public = Blueprint::default().resources();
        let nodes = |rs: &[ResourceSpec]| t.monthly(rs.iter().find(|r| r.id == "nodes").unwrap()).unwrap();
        assert!((nodes(&public) - nodes(&rs) - 2.0 * 3.65).abs() < 0.01);
        assert!(t.note(spec("nodes")).is_none());
        // Public nodes are still the cheaper way out: no NAT gateway.
        let total = |rs: &[ResourceSpec]| rs.iter().filter_map(|r| t.monthly(r)).sum::<f64>();
        let private_no_ecr: Vec<_> = rs.iter().filter(|r| r.kind != ResourceKind::EcrRepository).cloned().collect();
        assert!(total(&public) + 25.0 < total(&private_no_ecr), "{} {}", total(&public), total(&private_no_ecr));
    }
}
