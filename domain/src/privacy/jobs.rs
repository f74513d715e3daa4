//! The export's jobs: `export.build` builds the archive, `export.expire` deletes it when its time is up.
//!
//! Rules: both are idempotent (a second build of a completed export does nothing, a retried build rebuilds;
//! an expiry of a deleted archive does nothing); a payload that names no request fails at once.

use async_trait::async_trait;

use super::PrivacyService;
use crate::ids::DataSubjectRequestId;
use crate::jobs::{ClaimedJob, JobHandler, JobOutcome};

pub const EXPORT_BUILD: &str = "export.build";
pub const EXPORT_EXPIRE: &str = "export.expire";

/// Runs the export jobs with a [`PrivacyService`].
#[derive(Debug, Clone)]
pub struct ExportJobs(PrivacyService);

impl ExportJobs {
    pub fn new(service: PrivacyService) -> Self {
        Self(service)
    }
}

fn request_of(job: &ClaimedJob) -> Option<DataSubjectRequestId> {
    job.payload.get("request")?.as_str()?.parse().ok()
}

#[async_trait]
impl JobHandler for ExportJobs {
    fn kinds(&self) -> &'static [&'static str] {
        &[EXPORT_BUILD, EXPORT_EXPIRE]
    }

    async fn run(&self, job: &ClaimedJob) -> JobOutcome {
        let Some(id) = request_of(job) else {
            return JobOutcome::Failed {
                error: "the payload names no request".to_owned(),
            };
        };
        let result = match job.kind.as_str() {
            EXPORT_BUILD => self.0.build_export(id).await.map(|()| true),
            _ => self.0.expire_export(id).await,
        };
        match result {
            Ok(true) => JobOutcome::Done,
            Ok(false) => JobOutcome::Retry {
                after: std::time::Duration::from_secs(60 * 60),
                error: "the archive is not due to expire yet".to_owned(),
            },
            Err(error) => JobOutcome::retry(job, error.to_string()),
        }
    }
}
