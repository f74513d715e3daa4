//! The configuration's defaults, layering and refusals.

use super::*;

#[test]
fn defaults_are_the_embedded_setup() -> Result<(), ConfigError> {
    let settings: Settings = Figment::from(Serialized::defaults(defaults()))
        .extract()
        .map_err(|e| ConfigError::Invalid(e.to_string()))?;
    assert_eq!(settings.server.addr.to_string(), "127.0.0.1:8080");
    assert_eq!(settings.data_dir, PathBuf::from("./data"));
    assert!(settings.database.url.is_none());
    assert!(settings.master_key.is_none());
    assert_eq!((settings.jobs.poll_ms, settings.jobs.keep_finished_hours), (500, 168));
    Ok(())
}

#[test]
#[expect(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
fn job_settings_come_from_the_jobs_section_and_the_environment() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("tgos.toml", "[jobs]\npoll_ms = 250\nkeep_finished_hours = 24\n")?;
        jail.set_env("TGOS_JOBS__BATCH", "3");
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(settings.jobs.poll_ms, 250);
        assert_eq!(settings.jobs.keep_finished_hours, 24);
        assert_eq!(settings.jobs.batch, 3);
        assert_eq!(settings.jobs.lease_secs, 60);
        Ok(())
    });
}

#[test]
#[expect(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
fn plaintext_smtp_is_refused_unless_explicitly_allowed() {
    figment::Jail::expect_with(|jail| {
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert!(!settings.mail.allow_plaintext_smtp);
        jail.set_env("TGOS_MAIL__ALLOW_PLAINTEXT_SMTP", "true");
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert!(settings.mail.allow_plaintext_smtp);
        Ok(())
    });
}

#[test]
#[expect(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
fn toml_overrides_defaults_and_secrets_stay_redacted() -> Result<(), ConfigError> {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "tgos.toml",
            "master_key = \"c2VjcmV0LWtleS1zaG91bGQtbmV2ZXItYmUtcHJpbnRlZA==\"\n[server]\naddr = \"0.0.0.0:9000\"\n",
        )?;
        jail.set_env("TGOS_GRAPHQL__MAX_DEPTH", "7");
        jail.set_env("DATABASE_URL", "postgres://user:hunter2@db/tgos");
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(settings.server.addr.to_string(), "0.0.0.0:9000");
        assert_eq!(settings.graphql.max_depth, 7);
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "database password printed: {printed}");
        assert!(!printed.contains("c2VjcmV0"), "master key printed");
        Ok(())
    });
    Ok(())
}

#[test]
#[expect(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
fn command_line_wins_over_environment() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("TGOS_SERVER__ADDR", "127.0.0.1:7000");
        jail.set_env("TGOS_DATA_DIR", "/tmp/from-env");
        let from_env = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(from_env.server.addr.port(), 7000);
        assert_eq!(from_env.data_dir, PathBuf::from("/tmp/from-env"));
        let overrides = Overrides {
            addr: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            ..Overrides::default()
        };
        let from_flag = Settings::load(&overrides).map_err(|e| e.to_string())?;
        assert_eq!(from_flag.server.addr.port(), 0);
        Ok(())
    });
}

#[test]
#[expect(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
fn trusted_proxies_parse_from_toml_and_environment_and_a_bad_one_is_named() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("tgos.toml", "[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n")?;
        let from_file = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert!(
            from_file
                .server
                .trusted_proxies
                .contains("10.9.8.7".parse().map_err(|_| "ip")?)
        );
        assert!(
            from_file
                .server
                .trusted_proxies
                .contains("::1".parse().map_err(|_| "ip")?)
        );
        jail.set_env("TGOS_SERVER__TRUSTED_PROXIES", "[\"192.0.2.0/24\"]");
        jail.set_env("TGOS_SERVER__FORWARDED_HEADER", "forwarded");
        let from_env = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert!(
            from_env
                .server
                .trusted_proxies
                .contains("192.0.2.9".parse().map_err(|_| "ip")?)
        );
        assert!(
            !from_env
                .server
                .trusted_proxies
                .contains("10.9.8.7".parse().map_err(|_| "ip")?)
        );
        assert_eq!(from_env.server.forwarded_header, ForwardedHeader::Forwarded);
        jail.set_env("TGOS_SERVER__TRUSTED_PROXIES", "[\"10.0.0.0/33\"]");
        let refused = Settings::load(&Overrides::default())
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("10.0.0.0/33") && e.to_lowercase().contains("trusted_proxies")),
            "{refused:?}"
        );
        Ok(())
    });
}

#[test]
#[expect(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
fn the_mtproto_gateway_settings_come_from_the_environment_and_the_hash_is_never_printed() {
    figment::Jail::expect_with(|jail| {
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(
            settings.telegram.gateway, "sandbox",
            "the sandbox is the embedded default"
        );
        assert_eq!((settings.telegram.api_id, settings.telegram.test_dc), (None, false));
        jail.set_env("TGOS_TELEGRAM__GATEWAY", "mtproto");
        jail.set_env("TGOS_TELEGRAM__API_ID", "94575");
        jail.set_env("TGOS_TELEGRAM__API_HASH", "a3406de8d171bb422bb6ddf3bbd800e2");
        jail.set_env("TGOS_TELEGRAM__TEST_DC", "true");
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(settings.telegram.gateway, "mtproto");
        assert_eq!(settings.telegram.api_id, Some(94575));
        assert!(settings.telegram.test_dc);
        let printed = format!("{settings:?}");
        assert!(!printed.contains("a3406de8"), "api_hash printed: {printed}");
        Ok(())
    });
}

#[test]
#[expect(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
fn database_migrate_defaults_to_auto_and_comes_from_the_file_and_the_environment() {
    figment::Jail::expect_with(|jail| {
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(settings.database.migrate, MigrateMode::Auto);
        assert_eq!(settings.database_settings().migrate, MigrateMode::Auto);
        jail.create_file("tgos.toml", "[database]\nmigrate = \"check\"\n")?;
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(settings.database.migrate, MigrateMode::Check);
        jail.set_env("TGOS_DATABASE__MIGRATE", "Auto");
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(settings.database.migrate, MigrateMode::Auto);
        jail.set_env("TGOS_DATABASE__MIGRATE", "sometimes");
        let error = Settings::load(&Overrides::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("\"sometimes\"") && error.contains("database.migrate must be \"auto\" or \"check\""),
            "{error}"
        );
        Ok(())
    });
}

#[test]
#[expect(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
fn span_export_is_off_by_default_and_set_from_the_telemetry_section_or_the_environment() {
    figment::Jail::expect_with(|jail| {
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(settings.telemetry.traces_url(), None);
        assert_eq!(settings.telemetry.service_name, "tgos");
        jail.create_file("tgos.toml", "[telemetry]\nservice_name = \"tgos-eu\"\n")?;
        jail.set_env("TGOS_TELEMETRY__OTLP_ENDPOINT", "http://user:pass@collector:4318");
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(settings.telemetry.service_name, "tgos-eu");
        assert_eq!(
            settings.telemetry.traces_url().as_deref(),
            Some("http://user:pass@collector:4318/v1/traces")
        );
        assert!(!format!("{settings:?}").contains("pass@"), "the endpoint is redacted");
        Ok(())
    });
}

#[test]
#[expect(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
fn the_leader_lease_and_the_workers_switch_come_from_the_environment_and_the_command_line() {
    figment::Jail::expect_with(|jail| {
        let defaults = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(defaults.workers.leader_lease_secs, 15);
        assert!(defaults.server.workers);
        jail.set_env("TGOS_WORKERS__LEADER_LEASE_SECS", "6");
        jail.set_env("TGOS_SERVER__WORKERS", "true");
        let overrides = Overrides {
            workers: Some(false),
            ..Overrides::default()
        };
        let settings = Settings::load(&overrides).map_err(|e| e.to_string())?;
        assert_eq!(settings.workers.leader_lease_secs, 6);
        assert!(!settings.server.workers, "--workers=false wins over the environment");
        Ok(())
    });
}

#[test]
#[expect(clippy::result_large_err, reason = "figment::Jail fixes the closure's error type")]
fn limits_count_in_the_database_on_postgres_and_in_memory_on_sqlite_unless_configured() {
    figment::Jail::expect_with(|jail| {
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(settings.limits.store, None);
        assert_eq!(settings.limits_store(), LimitsStore::Memory, "SQLite");
        jail.set_env("TGOS_DATABASE__URL", "postgres://tgos@db.internal/tgos");
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(settings.limits_store(), LimitsStore::Database, "PostgreSQL");
        jail.set_env("TGOS_LIMITS__STORE", "memory");
        let settings = Settings::load(&Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(settings.limits_store(), LimitsStore::Memory, "as configured");
        jail.set_env("TGOS_LIMITS__STORE", "nats");
        assert!(
            Settings::load(&Overrides::default()).is_err(),
            "an unknown store is refused"
        );
        Ok(())
    });
}
