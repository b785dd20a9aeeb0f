/**
 * Sets of domains devkit keeps for what agents commonly need to reach (each
 * domain with its subdomains, over the CONNECT ports in `egress.ports`, 443
 * by default), named in devkit.yml's `egress.presets`.
 */
export interface EgressPreset {
  description: string;
  domains: readonly string[];
}

export const EGRESS_PRESETS: Readonly<Record<string, EgressPreset>> = {
  github: {
    description: 'GitHub: git over HTTPS and over SSH on ssh.github.com:443, the API, raw files and releases',
    domains: ['github.com', 'githubusercontent.com'],
  },
  jvm: {
    description: 'Maven Central, sbt and Sonatype: what sbt, Coursier, Maven and Gradle fetch',
    domains: [
      'repo1.maven.org',
      'repo.maven.apache.org',
      'repo.scala-sbt.org',
      'scala.jfrog.io',
      'oss.sonatype.org',
      's01.oss.sonatype.org',
      'central.sonatype.com',
    ],
  },
  npm: {
    description: 'the npm and Yarn registries',
    domains: ['registry.npmjs.org', 'registry.yarnpkg.com'],
  },
  claude: {
    description: "Claude Code: Anthropic's API, its login and its console",
    domains: ['anthropic.com', 'claude.ai', 'claude.com'],
  },
  codex: {
    description: "Codex: OpenAI's API and its ChatGPT login",
    domains: ['openai.com', 'chatgpt.com'],
  },
};

/** The presets in force when devkit.yml names neither `egress.presets` nor `egress.allow`: a JVM project pushing to GitHub. */
export const DEFAULT_PRESETS: readonly string[] = ['github', 'jvm'];
