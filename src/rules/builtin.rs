//! The built-in rule files, embedded with `include_str!` and listed explicitly (a test
//! fails when `rules/` holds a file that is not listed here).

macro_rules! rule_files {
    ($($name:literal),* $(,)?) => {
        /// (file name under `rules/`, contents)
        pub const FILES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../rules/", $name))),)*
        ];
    };
}

rule_files![
    "ai-agents.toml",
    "ai-data.toml",
    "ai-platforms.toml",
    "ai.toml",
    "alibaba.toml",
    "analytics.toml",
    "anthropic.toml",
    "asia.toml",
    "atlassian.toml",
    "aws.toml",
    "azure.toml",
    "backends-more.toml",
    "bitbucket.toml",
    "business.toml",
    "chat.toml",
    "ci.toml",
    "cli-credentials.toml",
    "cloud-misc.toml",
    "cloudflare.toml",
    "commerce.toml",
    "config-files.toml",
    "credentials.toml",
    "crypto.toml",
    "data-infra.toml",
    "data-platforms.toml",
    "datadog.toml",
    "devplatforms.toml",
    "devtools.toml",
    "digitalocean.toml",
    "discord.toml",
    "dns-registrars.toml",
    "doppler.toml",
    "email.toml",
    "fintech.toml",
    "gcp.toml",
    "generic.toml",
    "gitea.toml",
    "github.toml",
    "gitlab.toml",
    "grafana.toml",
    "hashicorp.toml",
    "heroku.toml",
    "hosting.toml",
    "identity-devtools.toml",
    "identity.toml",
    "imagekit.toml",
    "infra.toml",
    "iot.toml",
    "looker.toml",
    "maps.toml",
    "media-cms.toml",
    "newrelic.toml",
    "observability.toml",
    "onepassword.toml",
    "openai.toml",
    "ops-more.toml",
    "ops.toml",
    "password-hashes.toml",
    "payments-more.toml",
    "payments.toml",
    "private-keys.toml",
    "productivity.toml",
    "realtime-social.toml",
    "registries.toml",
    "saas-more.toml",
    "saas.toml",
    "sentry.toml",
    "shared-formats.toml",
    "shopify.toml",
    "slack.toml",
    "social.toml",
    "stripe.toml",
    "supabase.toml",
    "twilio.toml",
    "uri.toml",
    "wallets.toml",
    "web-services.toml",
    "webapis.toml",
];

/// A built-in rule as pre-parsed by `build.rs` (see [`BUILTIN_RULES`]).
pub struct StaticRule {
    pub file: &'static str,
    pub line: usize,
    pub id: &'static str,
    pub name: &'static str,
    pub provider: Option<&'static str>,
    pub description: &'static str,
    pub keywords: &'static [&'static str],
    pub regex: &'static str,
    pub min_entropy: Option<f64>,
    pub confidence: Option<&'static str>,
    pub examples: &'static [&'static str],
    pub negative_examples: &'static [&'static str],
    pub references: &'static [&'static str],
    pub window: Option<i64>,
    pub generic: Option<bool>,
    pub free_form: Option<bool>,
    pub stopwords: &'static [&'static str],
    pub anchor: Option<&'static str>,
    pub overrides: &'static [&'static str],
    pub checksum: Option<&'static str>,
}

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

#[cfg(test)]
mod tests {
    use super::FILES;

    #[test]
    fn pre_parsed_table_matches_the_embedded_files() {
        use crate::rules::parse_rule_file;
        use std::path::Path;
        let mut from_files = Vec::new();
        for (name, text) in FILES {
            for r in parse_rule_file(text, &Path::new("rules").join(name)).unwrap() {
                from_files.push((
                    r.id.clone(),
                    r.regex.clone(),
                    r.examples.clone(),
                    r.origin.line,
                ));
            }
        }
        let from_table: Vec<_> = super::BUILTIN_RULES
            .iter()
            .map(|r| {
                (
                    r.id.to_string(),
                    r.regex.to_string(),
                    r.examples.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
                    r.line,
                )
            })
            .collect();
        assert_eq!(from_files, from_table);
    }

    #[test]
    fn every_file_in_rules_dir_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("rules/ exists")
            .map(|e| {
                e.expect("readable entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "rules/ and rules::builtin::FILES differ");
    }
}
