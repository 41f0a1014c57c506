// The mock backend's Export side (issue #7): the `export` command as crates/app/src/export.rs
// answers it, with files made from the mock's blueprint and projects. Not the real generators
// (crates/core/src/export/, crates/kube/src/export.rs), but files of the same names and shape:
// Terraform with a resource per blueprint resource, variables and outputs; multi-document
// Kubernetes YAML of the project's services; a declarative Jenkinsfile and a GitHub Actions
// workflow with the five stages. The refusals and notes have the real wording.

import type { Environment } from "../bindings/Environment";
import type { Export } from "../bindings/Export";
import type { ExportFile } from "../bindings/ExportFile";
import type { ExportKind } from "../bindings/ExportKind";
import type { Blueprint } from "../bindings/Blueprint";
import type { ImageArtifact } from "../bindings/ImageArtifact";
import type { Project } from "../bindings/Project";
import type { ResourceKind } from "../bindings/ResourceKind";
import type { Run } from "../bindings/Run";
import type { UserError } from "../bindings/UserError";
import type { IntegrationEnv } from "./mockGithub";
import { defaultBlueprint, mockResources } from "./mockProvision";

function ue(what: string, why: string, fix: string): UserError {
  return { what, why, fix };
}

/** What the export needs of the MockBackend besides the #7 basics. */
export type ExportEnv = IntegrationEnv & {
  environments: (project: string) => Environment[];
  /** Newest first. */
  runs: (project: string) => Run[];
  /** The connected registry as `host[/namespace]`, or null. */
  registry: () => string | null;
};

export const K8S_EXPORT_PATH = "slipway/k8s.yaml";
const KINDS: ExportKind[] = ["terraform", "k8s", "jenkinsfile", "github-actions"];

const TF_TYPE: Record<ResourceKind, string> = {
  vpc: "aws_vpc",
  internetGateway: "aws_internet_gateway",
  subnet: "aws_subnet",
  routeTable: "aws_route_table",
  securityGroup: "aws_security_group",
  keyPair: "aws_key_pair",
  instance: "aws_instance",
  dbSubnetGroup: "aws_db_subnet_group",
  dbInstance: "aws_db_instance",
  iamRole: "aws_iam_role",
  eksCluster: "aws_eks_cluster",
  eksNodegroup: "aws_eks_node_group",
  elasticIp: "aws_eip",
  natGateway: "aws_nat_gateway",
  launchTemplate: "aws_launch_template",
  ecrRepository: "aws_ecr_repository",
};

const tfName = (id: string) => id.replace(/-/g, "_");
const q = (s: string) => JSON.stringify(s);

export class MockExport {
  constructor(
    readonly env: ExportEnv,
    readonly opts: { seed: boolean },
  ) {}

  async handle(cmd: string, a: Record<string, unknown>): Promise<unknown> {
    if (cmd !== "export") throw ue(`Unknown command ${cmd}`, "the mock export does not implement it", "Add it to src/testing/mockExport.ts");
    return this.export(a.kind as ExportKind, (a.project as string | null) ?? null, (a.environment as string | null) ?? null);
  }

  export(kind: ExportKind, project: string | null, environment: string | null): Export {
    if (!KINDS.includes(kind)) {
      throw ue("Unknown export", `'${kind}' is not something Slipway exports`, `Use one of: ${KINDS.join(", ")}`);
    }
    if (kind === "terraform") return this.terraform(project);
    const p = project === null ? this.defaultProject() : this.project(project);
    const env = this.environment(p, environment);
    const notes: string[] = [];
    if (env?.target.kind === "local") {
      notes.push(`Environment ${env.name} is the local Docker engine: this is what a Kubernetes environment with the defaults would apply`);
    }
    const { images, run } = this.images(p);
    if (run === null) {
      notes.push(`No run of ${p.id} has built images yet: the images are ${p.id}-<service>:latest (run the pipeline and export again)`);
    }
    const envName = env?.name ?? "default";
    const namespace = (env?.target.kind === "kubernetes" ? env.target.namespace : null) ?? p.id;
    if (kind === "k8s") {
      const source = run ? `the images of run ${run.id} (commit ${run.commit!.slice(0, 12)})` : `the images ${p.id}-<service>:latest (no run has built images yet)`;
      if (p.database) notes.push(`The Secrets ${p.id}-db hold REPLACE_WITH_DB_PASSWORD where the database password goes: put it in before applying this file by hand`);
      return { kind, files: [{ path: "k8s.yaml", content: this.k8s(p, envName, namespace, images, source) }], notes };
    }
    const registry = this.env.registry();
    if (registry === null) {
      notes.push("No container registry is connected: the file pushes to registry.example.com/REPLACE_WITH_NAMESPACE (connect one and export again, or edit REGISTRY)");
    }
    notes.push(`The deploy applies ${K8S_EXPORT_PATH}: write it with \`slipway export k8s -o ${K8S_EXPORT_PATH}\` and commit it`);
    const reg = registry ?? "registry.example.com/REPLACE_WITH_NAMESPACE";
    const file: ExportFile =
      kind === "jenkinsfile"
        ? { path: "Jenkinsfile", content: this.jenkinsfile(p, reg, envName, namespace) }
        : { path: "slipway.yml", content: this.workflow(p, reg, envName, namespace) };
    return { kind, files: [file], notes };
  }

  // ---- inputs, refused like crates/app/src/export.rs ----------------------------------------

  private project(id: string): Project {
    const p = this.env.projects().find((x) => x.id === id);
    if (!p) throw ue("Project not found", `there is no project "${id}"`, "Add it first (Project page, or `slipway project add PATH`)");
    return p;
  }

  private defaultProject(): Project {
    const all = this.env.projects();
    if (all.length === 1) return all[0];
    if (all.length === 0) throw ue("No project", "no project has been added yet", "Add one: `slipway project add PATH` or the Project page");
    throw ue("Which project?", `there are ${all.length} projects: ${all.map((p) => p.id).join(", ")}`, "Name one with --project");
  }

  private environment(p: Project, name: string | null): Environment | null {
    const all = this.env.environments(p.id);
    const names = all.map((e) => e.name).join(", ");
    if (name !== null) {
      const e = all.find((x) => x.name === name);
      if (!e) {
        throw ue(
          "Environment not found",
          `project ${p.id} has no environment "${name}"${all.length ? ` (it has: ${names})` : ""}`,
          "Leave --env out for the defaults, or add it with `slipway env set NAME --context CTX`",
        );
      }
      return e;
    }
    const runs = all.find((e) => e.runs);
    if (runs) return runs;
    if (all.length <= 1) return all[0] ?? null;
    throw ue("Which environment?", `project ${p.id} has ${all.length}: ${names}`, "Name one with --env");
  }

  private images(p: Project): { images: ImageArtifact[]; run: Run | null } {
    const run = this.env.runs(p.id).find((r) => r.artifacts.images.length > 0 && r.commit !== null) ?? null;
    const images = run ? structuredClone(run.artifacts.images) : [];
    for (const s of p.services) {
      if (!images.some((i) => i.service === s.name)) images.push({ service: s.name, image: `${p.id}-${s.name}:latest`, pushed: null, digest: null });
    }
    return { images, run };
  }

  // ---- Terraform ---------------------------------------------------------------------------

  private terraform(project: string | null): Export {
    const current = this.env.blueprint();
    const name = project ?? "slipway";
    const bp: Blueprint = current.project === name ? current : { ...defaultBlueprint(), project: name };
    const notes: string[] = [];
    if (JSON.stringify(bp) === JSON.stringify({ ...defaultBlueprint(), project: name })) {
      notes.push(`No blueprint is saved for project ${bp.project}: these are the default values (edit them with \`slipway blueprint --set\` or on the Architecture page)`);
    }
    const header = (file: string, what: string) =>
      `# ${file}: ${what}\n# Exported by Slipway from the blueprint of project ${bp.project} (${bp.region}).\n`;
    const specs = mockResources(bp);
    const ref = (id: string) => {
      const s = specs.find((x) => x.id === id)!;
      return `${TF_TYPE[s.kind]}.${tfName(id)}.id`;
    };
    const main: string[] = [
      header("main.tf", "the provider and one resource per blueprint resource, with the names and tags `slipway apply` gives them."),
      "terraform {",
      '  required_version = ">= 1.3"',
      "",
      "  required_providers {",
      '    aws = { source = "hashicorp/aws", version = "~> 5.0" }',
      "  }",
      "}",
      "",
      'provider "aws" {',
      "  region = var.region",
      "}",
      "",
    ];
    for (const s of specs) {
      const attrs: string[] = [];
      const deps = s.dependsOn.filter((d) => specs.some((x) => x.id === d));
      switch (s.kind) {
        case "vpc":
          attrs.push("cidr_block           = var.vpc_cidr", "enable_dns_hostnames = true");
          break;
        case "subnet": {
          const pub = s.id.includes("public");
          const idx = s.id.endsWith("-a") ? 0 : 1;
          attrs.push(`vpc_id            = ${ref("vpc")}`, `cidr_block        = var.${pub ? "public" : "private"}_subnets[${idx}]`, `availability_zone = var.azs[${idx}]`);
          if (pub) attrs.push("map_public_ip_on_launch = true");
          break;
        }
        case "instance":
          attrs.push(
            "ami                    = data.aws_ssm_parameter.al2023.value",
            `instance_type          = var.${s.id === "vm-ci" ? "ci" : "test"}_instance_type`,
            `subnet_id              = ${ref(s.dependsOn[0])}`,
            `vpc_security_group_ids = [${ref(s.dependsOn[1])}]`,
            `key_name               = aws_key_pair.keypair.key_name`,
          );
          break;
        case "dbInstance":
          attrs.push(
            'engine                 = "mysql"',
            "engine_version         = var.db_engine_version",
            "instance_class         = var.db_instance_class",
            "allocated_storage      = var.db_storage_gb",
            'username               = "admin"',
            `password               = var.${tfName(s.id)}_password`,
            "db_subnet_group_name   = aws_db_subnet_group.db_subnets.name",
            `vpc_security_group_ids = [${ref("sg-db")}]`,
            "skip_final_snapshot    = true",
          );
          break;
        case "eksCluster":
          attrs.push(`name     = ${q(s.name)}`, "version  = var.kubernetes_version", `role_arn = aws_iam_role.role_cluster.arn`, "", "vpc_config {", `  subnet_ids = [${["subnet-private-a", "subnet-private-b", "subnet-public-a", "subnet-public-b"].map(ref).join(", ")}]`, "}");
          break;
        case "eksNodegroup":
          attrs.push(
            "cluster_name   = aws_eks_cluster.eks.name",
            `node_role_arn  = aws_iam_role.role_nodes.arn`,
            `subnet_ids     = [${ref("subnet-private-a")}, ${ref("subnet-private-b")}]`,
            "instance_types = [var.node_instance_type]",
            "",
            "scaling_config {",
            "  desired_size = var.node_count",
            "  min_size     = var.node_count",
            "  max_size     = var.node_count",
            "}",
          );
          break;
        case "keyPair":
          attrs.push(`key_name   = ${q(s.name)}`, "public_key = var.ssh_public_key");
          break;
        case "iamRole":
          attrs.push(`name               = ${q(s.name)}`, `assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = ${q(s.id === "role-cluster" ? "eks.amazonaws.com" : "ec2.amazonaws.com")} } }] })`);
          break;
        case "dbSubnetGroup":
          attrs.push(`name       = ${q(s.name)}`, `subnet_ids = [${ref("subnet-private-a")}, ${ref("subnet-private-b")}]`);
          break;
        case "securityGroup":
          attrs.push(`name   = ${q(s.name)}`, `vpc_id = ${ref("vpc")}`);
          if (s.id === "sg-ci" || s.id === "sg-test") attrs.push("", "ingress {", '  description = "SSH from the admin"', "  from_port   = 22", "  to_port     = 22", '  protocol    = "tcp"', "  cidr_blocks = [var.admin_cidr]", "}");
          break;
        default:
          attrs.push(`vpc_id = ${ref("vpc")}`);
      }
      if (deps.length && !["subnet", "instance", "eksNodegroup"].includes(s.kind)) {
        attrs.push(`depends_on = [${deps.map((d) => `${TF_TYPE[specs.find((x) => x.id === d)!.kind]}.${tfName(d)}`).join(", ")}]`);
      }
      attrs.push("", "tags = {", `  Name               = ${q(s.name)}`, `  "slipway:project"  = ${q(bp.project)}`, `  "slipway:resource" = ${q(s.id)}`, "}");
      main.push(`resource "${TF_TYPE[s.kind]}" "${tfName(s.id)}" {`, ...attrs.map((l) => (l ? `  ${l}` : "")), "}", "");
    }
    main.push('data "aws_ssm_parameter" "al2023" {', '  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"', "}", "");

    const vars: [string, string, string][] = [
      ["region", "The AWS region.", q(bp.region)],
      ["azs", "Two availability zones of the region.", `[${bp.azs.map(q).join(", ")}]`],
      ["vpc_cidr", "The VPC's address range.", q(bp.vpcCidr)],
      ["public_subnets", "Two public subnets, one per zone.", `[${bp.publicSubnets.map(q).join(", ")}]`],
      ["private_subnets", "Two private subnets, one per zone.", `[${bp.privateSubnets.map(q).join(", ")}]`],
      ["admin_cidr", "Who may SSH to the VMs and open Jenkins.", q(bp.adminCidr)],
      ["ci_instance_type", "The CI VM's instance type.", q(bp.ciInstanceType)],
      ["test_instance_type", "The test VM's instance type.", q(bp.testInstanceType)],
      ["db_instance_class", "The databases' instance class.", q(bp.dbInstanceClass)],
      ["db_storage_gb", "The databases' storage (GB).", String(bp.dbStorageGb)],
      ["db_engine_version", "MySQL's version.", q(bp.dbEngineVersion)],
      ["node_instance_type", "The cluster nodes' instance type.", q(bp.nodeInstanceType)],
      ["node_count", "How many cluster nodes.", String(bp.nodeCount)],
      ["kubernetes_version", "The EKS cluster's Kubernetes version.", q(bp.kubernetesVersion)],
    ];
    const variables = [header("variables.tf", "the blueprint's parameters; the defaults are its values.")];
    for (const [n, d, v] of vars) variables.push(`variable "${n}" {`, `  description = ${q(d)}`, `  default     = ${v}`, "}", "");
    variables.push('variable "ssh_public_key" {', '  description = "The public key the VMs accept (ssh-ed25519 ...)."', "  type        = string", "}", "");
    for (const id of specs.filter((s) => s.kind === "dbInstance").map((s) => s.id)) {
      variables.push(`variable "${tfName(id)}_password" {`, `  description = ${q(`The master password of the ${id} database.`)}`, "  type        = string", "  sensitive   = true", "}", "");
    }

    const outputs = [header("outputs.tf", "what you connect to.")];
    const out = (n: string, d: string, v: string) => outputs.push(`output "${n}" {`, `  description = ${q(d)}`, `  value       = ${v}`, "}", "");
    for (const s of specs) {
      const n = tfName(s.id);
      if (s.kind === "vpc") out(`${n}_id`, `The VPC's id (${s.id}).`, `aws_vpc.${n}.id`);
      if (s.kind === "instance") out(`${n}_public_ip`, `The public address of the ${s.id} VM.`, `aws_instance.${n}.public_ip`);
      if (s.kind === "dbInstance") {
        out(`${n}_endpoint`, `The host name of the ${s.id} database.`, `aws_db_instance.${n}.address`);
        out(`${n}_port`, `The port of the ${s.id} database.`, `aws_db_instance.${n}.port`);
      }
      if (s.kind === "eksCluster") {
        out(`${n}_cluster_name`, "The EKS cluster's name (`aws eks update-kubeconfig --name ...`).", `aws_eks_cluster.${n}.name`);
        out(`${n}_endpoint`, "The EKS API server.", `aws_eks_cluster.${n}.endpoint`);
      }
    }
    return {
      kind: "terraform",
      files: [
        { path: "main.tf", content: main.join("\n") },
        { path: "variables.tf", content: variables.join("\n") },
        { path: "outputs.tf", content: outputs.join("\n") },
      ],
      notes,
    };
  }

  // ---- Kubernetes YAML ---------------------------------------------------------------------

  private k8s(p: Project, envName: string, namespace: string, images: ImageArtifact[], source: string): string {
    const docs: string[] = [
      `# Exported by Slipway: project ${p.id}, environment ${envName}, ${source}.\n# Apply with: kubectl apply --server-side --field-manager slipway -f k8s.yaml\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${namespace}\n  labels:\n    app.kubernetes.io/managed-by: slipway\n    slipway.dev/project: ${p.id}`,
    ];
    if (p.database) {
      docs.push(
        `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${p.id}-db\n  namespace: ${namespace}\n  labels:\n    slipway.dev/placeholder: "true"\ntype: Opaque\nstringData:\n  password: REPLACE_WITH_DB_PASSWORD`,
      );
    }
    for (const s of p.services) {
      const image = images.find((i) => i.service === s.name);
      const ref = image?.pushed ?? image?.image ?? `${p.id}-${s.name}:latest`;
      const env = Object.entries(s.env)
        .map(([k, v]) => `            - name: ${k}\n              value: ${q(v)}`)
        .join("\n");
      docs.push(
        [
          "apiVersion: apps/v1",
          "kind: Deployment",
          "metadata:",
          `  name: ${s.name}`,
          `  namespace: ${namespace}`,
          "  labels:",
          `    app.kubernetes.io/name: ${s.name}`,
          "    app.kubernetes.io/managed-by: slipway",
          "spec:",
          `  replicas: ${p.deploy.replicas}`,
          "  selector:",
          "    matchLabels:",
          `      app.kubernetes.io/name: ${s.name}`,
          "  template:",
          "    metadata:",
          "      labels:",
          `        app.kubernetes.io/name: ${s.name}`,
          "    spec:",
          "      containers:",
          `        - name: ${s.name}`,
          `          image: ${ref}`,
          ...(s.port !== null ? ["          ports:", `            - containerPort: ${s.port}`] : []),
          ...(env ? ["          env:", env] : []),
        ].join("\n"),
      );
      if (s.port !== null) {
        docs.push(
          `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${s.name}\n  namespace: ${namespace}\nspec:\n  selector:\n    app.kubernetes.io/name: ${s.name}\n  ports:\n    - port: ${s.port}\n      targetPort: ${s.port}`,
        );
      }
    }
    return docs.join("\n---\n") + "\n";
  }

  // ---- CI files ----------------------------------------------------------------------------

  private jenkinsfile(p: Project, registry: string, envName: string, namespace: string): string {
    const builds = p.services.map((s) => `                sh 'docker build -t "$REGISTRY/${p.id}-${s.name}:$IMAGE_TAG" -f ${s.context}/${s.dockerfile} ${s.context}'`).join("\n");
    const tests = p.services
      .filter((s) => s.tests && s.testCommand)
      .map((s) => `                sh 'docker run --rm -v "$PWD/reports:/reports" "$REGISTRY/${p.id}-${s.name}:$IMAGE_TAG" ${s.testCommand!.join(" ")} --junitxml=/reports/${s.name}.xml'`)
      .join("\n");
    const pushes = p.services.map((s) => `                    sh 'docker push "$REGISTRY/${p.id}-${s.name}:$IMAGE_TAG"'`).join("\n");
    return `// Jenkinsfile exported by Slipway for project ${p.id} (environment ${envName}).
// Credentials: slipway-registry (username and password), slipway-kubeconfig (a file).
pipeline {
    agent any

    environment {
        REGISTRY = '${registry}'
        K8S_NAMESPACE = '${namespace}'
        RUN_ID = "\${env.BUILD_TAG}"
    }

    stages {
        stage('Checkout') {
            steps {
                checkout scm
                script {
                    env.IMAGE_TAG = sh(script: 'git rev-parse HEAD | cut -c1-12', returnStdout: true).trim()
                }
            }
        }

        stage('Build') {
            steps {
${builds}
            }
        }

        stage('Test') {
            steps {
${tests || "                echo 'No service has tests'"}
            }
            post {
                always {
                    junit testResults: 'reports/**/*.xml', allowEmptyResults: false
                }
            }
        }

        stage('Push') {
            when { expression { currentBuild.currentResult == 'SUCCESS' } }
            steps {
                withCredentials([usernamePassword(credentialsId: 'slipway-registry', usernameVariable: 'REGISTRY_USER', passwordVariable: 'REGISTRY_PASSWORD')]) {
                    sh 'printf "%s" "$REGISTRY_PASSWORD" | docker login "\${REGISTRY%%/*}" -u "$REGISTRY_USER" --password-stdin'
${pushes}
                }
            }
        }

        stage('Deploy') {
            when { expression { currentBuild.currentResult == 'SUCCESS' } }
            steps {
                withCredentials([file(credentialsId: 'slipway-kubeconfig', variable: 'KUBECONFIG')]) {
                    sh 'kubectl apply --server-side --field-manager slipway -k slipway/'
                    sh 'kubectl -n "$K8S_NAMESPACE" rollout status deployment --timeout=300s'
                }
            }
        }
    }
}
`;
  }

  private workflow(p: Project, registry: string, envName: string, namespace: string): string {
    const build = p.services.map((s) => `          docker build -t "$REGISTRY/${p.id}-${s.name}:$IMAGE_TAG" -f ${s.context}/${s.dockerfile} ${s.context}`).join("\n");
    const push = p.services.map((s) => `          docker push "$REGISTRY/${p.id}-${s.name}:$IMAGE_TAG"`).join("\n");
    return `# GitHub Actions workflow exported by Slipway for project ${p.id} (environment ${envName}).
# Secrets: REGISTRY_USER, REGISTRY_PASSWORD, KUBECONFIG.
name: slipway
on:
  push:
    branches: [main]
  workflow_dispatch: {}
env:
  REGISTRY: ${registry}
  K8S_NAMESPACE: ${namespace}
jobs:
  checkout:
    name: Checkout
    runs-on: ubuntu-latest
    outputs:
      image_tag: \${{ steps.tag.outputs.tag }}
    steps:
      - uses: actions/checkout@v4
      - id: tag
        run: echo "tag=$(git rev-parse HEAD | cut -c1-12)" >> "$GITHUB_OUTPUT"
  build:
    name: Build
    needs: checkout
    runs-on: ubuntu-latest
    env:
      IMAGE_TAG: \${{ needs.checkout.outputs.image_tag }}
    steps:
      - uses: actions/checkout@v4
      - name: Build the images
        run: |
          set -euo pipefail
${build}
  test:
    name: Test
    needs: build
    runs-on: ubuntu-latest
    permissions:
      contents: read
      checks: write
    steps:
      - uses: actions/checkout@v4
      - name: Run the tests
        run: mkdir -p reports && echo "tests of ${p.services.map((s) => s.name).join(", ")}"
      - name: Test report
        uses: dorny/test-reporter@v1
        with:
          name: Tests
          path: reports/**/*.xml
          reporter: java-junit
          fail-on-error: true
  push:
    name: Push
    needs: [checkout, test]
    runs-on: ubuntu-latest
    env:
      IMAGE_TAG: \${{ needs.checkout.outputs.image_tag }}
    steps:
      - name: Push the images
        env:
          REGISTRY_USER: \${{ secrets.REGISTRY_USER }}
          REGISTRY_PASSWORD: \${{ secrets.REGISTRY_PASSWORD }}
        run: |
          set -euo pipefail
          printf '%s' "$REGISTRY_PASSWORD" | docker login "\${REGISTRY%%/*}" -u "$REGISTRY_USER" --password-stdin
${push}
  deploy:
    name: Deploy
    needs: push
    runs-on: ubuntu-latest
    environment: ${envName}
    steps:
      - uses: actions/checkout@v4
      - name: Apply and wait for the rollout
        env:
          KUBECONFIG_DATA: \${{ secrets.KUBECONFIG }}
        run: |
          set -euo pipefail
          printf '%s' "$KUBECONFIG_DATA" > "$RUNNER_TEMP/kubeconfig"
          export KUBECONFIG="$RUNNER_TEMP/kubeconfig"
          kubectl apply --server-side --field-manager slipway -k slipway/
          kubectl -n "$K8S_NAMESPACE" rollout status deployment --timeout=300s
`;
  }
}
