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
    "ai-platforms.toml",
    "ai.toml",
    "alibaba.toml",
    "analytics.toml",
    "anthropic.toml",
    "atlassian.toml",
    "aws.toml",
    "azure.toml",
    "bitbucket.toml",
    "chat.toml",
    "ci.toml",
    "cloud-misc.toml",
    "cloudflare.toml",
    "commerce.toml",
    "credentials.toml",
    "crypto.toml",
    "data-platforms.toml",
    "datadog.toml",
    "devtools.toml",
    "digitalocean.toml",
    "discord.toml",
    "doppler.toml",
    "email.toml",
    "gcp.toml",
    "generic.toml",
    "gitea.toml",
    "github.toml",
    "gitlab.toml",
    "grafana.toml",
    "hashicorp.toml",
    "heroku.toml",
    "hosting.toml",
    "identity.toml",
    "imagekit.toml",
    "infra.toml",
    "iot.toml",
    "looker.toml",
    "maps.toml",
    "newrelic.toml",
    "observability.toml",
    "onepassword.toml",
    "openai.toml",
    "password-hashes.toml",
    "payments.toml",
    "private-keys.toml",
    "productivity.toml",
    "registries.toml",
    "saas.toml",
    "sentry.toml",
    "shopify.toml",
    "slack.toml",
    "social.toml",
    "stripe.toml",
    "supabase.toml",
    "twilio.toml",
    "uri.toml",
    "webapis.toml",
];

#[cfg(test)]
mod tests {
    use super::FILES;

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
