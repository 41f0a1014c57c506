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
        Some(match spec.kind {
            ResourceKind::Instance => ec2(p["instanceType"].as_str()?)? + self.ec2_root_volume_gb * self.ebs_gb_month,
            ResourceKind::DbInstance => {
                self.rds_hourly.get(p["instanceClass"].as_str()?)? * HOURS_PER_MONTH
                    + p["allocatedStorage"].as_f64()? * self.rds_storage_gb_month
            }
            ResourceKind::EksCluster => self.eks_cluster_hourly * HOURS_PER_MONTH,
            ResourceKind::EksNodegroup => {
                p["desiredSize"].as_f64()? * (ec2(p["instanceType"].as_str()?)? + 20.0 * self.ebs_gb_month)
            }
            _ => 0.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::blueprint::Blueprint;

    #[test]
    fn every_default_resource_has_a_price_and_the_total_is_plausible() {
        let t = PriceTable::bundled();
        let rs = Blueprint::default().resources();
        let total: f64 = rs.iter().map(|r| t.monthly(r).unwrap_or_else(|| panic!("no price for {}", r.id))).sum();
        // t3.medium + t3.small + 2 x db.t3.micro + EKS + 2 x t3.medium nodes, about $260.
        assert!((200.0..330.0).contains(&total), "{total}");
        let eks = rs.iter().find(|r| r.id == "eks").unwrap();
        assert!((t.monthly(eks).unwrap() - 73.0).abs() < 0.01);
        assert!(t.source("eu-west-1").note.is_some());
        assert!(t.source("us-east-1").note.is_none());
    }
}
