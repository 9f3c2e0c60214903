// Valid packages of every format, built in process: the bytes each real client would send.
// Zips, tarballs and multipart bodies come from @stowage/testkit (build first).
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { root } from '../lib/harness.mjs';

const { buildTar, buildZip, multipart } = createRequire(join(root, 'packages/testkit/package.json'))('./dist/archives.js');

export { multipart };

export const digest = (alg, bytes, encoding = 'hex') => createHash(alg).update(bytes).digest(encoding);
export const sha256 = (bytes) => digest('sha256', bytes);

/** A gzipped tar of `files` (path → content). */
export const tgz = (files) => buildTar(files);

/** A comment a few KiB long that differs between builds, so no two packages share a blob. */
const filler = (label, comment = '//') => {
  const noise = randomBytes(1024 + Math.floor(Math.random() * 3072)).toString('base64');
  return `${comment} ${label}\n${comment} ${noise}\n`;
};

/** An npm tarball and the JSON body `npm publish` sends for it. */
export function npmPackage(name, version) {
  const manifest = { name, version, description: `soak ${name}`, main: 'index.js', license: 'MIT' };
  const bytes = tgz({
    'package/package.json': JSON.stringify(manifest, null, 2),
    'package/index.js': filler(`${name}@${version}`),
  });
  const fileName = `${name}-${version}.tgz`;
  const body = JSON.stringify({
    _id: name,
    name,
    'dist-tags': { latest: version },
    versions: {
      [version]: {
        ...manifest,
        _id: `${name}@${version}`,
        dist: { shasum: digest('sha1', bytes), integrity: `sha512-${digest('sha512', bytes, 'base64')}` },
      },
    },
    _attachments: { [fileName]: { content_type: 'application/octet-stream', data: bytes.toString('base64'), length: bytes.length } },
  });
  return { bytes, body };
}

/** A pure-Python wheel (module, METADATA, WHEEL, RECORD) and its PEP 427 file name. */
export function wheel(project, version) {
  const dist = project.replace(/[-.]+/g, '_');
  const info = `${dist}-${version}.dist-info`;
  const files = {
    [`${dist}/__init__.py`]: `VERSION = ${JSON.stringify(version)}\n${filler(project, '#')}`,
    [`${info}/METADATA`]:
      `Metadata-Version: 2.1\nName: ${project}\nVersion: ${version}\nSummary: soak package\n` + 'Requires-Python: >=3.7\n\nsoak\n',
    [`${info}/WHEEL`]: 'Wheel-Version: 1.0\nGenerator: stowage-soak\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  };
  const record = Object.entries(files).map(([p, c]) => `${p},sha256=${digest('sha256', c, 'base64url')},${Buffer.byteLength(c)}`);
  files[`${info}/RECORD`] = `${record.join('\n')}\n${info}/RECORD,,\n`;
  return { fileName: `${dist}-${version}-py3-none-any.whl`, bytes: buildZip(files) };
}

/** The multipart body twine sends for one file: the form fields first, then `content`. */
export function twineForm(project, version, w) {
  return multipart([
    { name: ':action', value: 'file_upload' },
    { name: 'protocol_version', value: '1' },
    { name: 'metadata_version', value: '2.1' },
    { name: 'name', value: project },
    { name: 'version', value: version },
    { name: 'filetype', value: 'bdist_wheel' },
    { name: 'pyversion', value: 'py3' },
    { name: 'summary', value: 'soak package' },
    { name: 'requires_python', value: '>=3.7' },
    { name: 'md5_digest', value: digest('md5', w.bytes) },
    { name: 'sha256_digest', value: sha256(w.bytes) },
    { name: 'content', value: w.bytes, fileName: w.fileName },
  ]);
}

/** A Maven jar, its POM and the artifact-level maven-metadata.xml listing `versions`. */
export function mavenArtifact(groupId, artifactId, version, versions) {
  const jar = buildZip({
    'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\r\nCreated-By: stowage-soak\r\n\r\n',
    'soak/Lib.txt': filler(`${artifactId}-${version}`),
  });
  const pom =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>' +
    `<groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version>` +
    '<packaging>jar</packaging></project>\n';
  const metadata =
    `<?xml version="1.0" encoding="UTF-8"?>\n<metadata><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId>` +
    `<versioning><latest>${version}</latest><release>${version}</release>` +
    `<versions>${versions.map((v) => `<version>${v}</version>`).join('')}</versions>` +
    `<lastUpdated>${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}</lastUpdated></versioning></metadata>\n`;
  return { jar, pom: Buffer.from(pom), metadata: Buffer.from(metadata) };
}

/** A .nupkg (nuspec + content) for `nuget push`. */
export function nupkg(id, version) {
  const nuspec = `<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata><id>${id}</id><version>${version}</version><authors>Soak</authors><description>soak package</description>
    <dependencies><group targetFramework="net6.0" /></dependencies></metadata>
</package>`;
  return buildZip({ [`${id}.nuspec`]: nuspec, 'content/readme.txt': filler(`${id} ${version}`) });
}

/** The files `conan upload` sends for a recipe and one binary package. */
export function conanFiles(name, version) {
  const conanfile = `from conan import ConanFile\n\nclass Soak(ConanFile):\n    name = "${name}"\n    version = "${version}"\n`;
  const exportTgz = tgz({ 'hello.txt': filler(`${name}/${version} export`, '') });
  const packageTgz = tgz({ 'include/soak.h': filler(`${name}/${version} package`) });
  const manifest = (files) => {
    const lines = Object.entries(files).map(([f, c]) => `${f}: ${digest('md5', c)}`);
    return `${Math.floor(Date.now() / 1000)}\n${lines.join('\n')}\n`;
  };
  const conaninfo = '[settings]\n    arch=x86_64\n    build_type=Release\n    os=Linux\n\n[options]\n\n[requires]\n';
  return {
    recipe: {
      'conanfile.py': Buffer.from(conanfile),
      'conan_export.tgz': exportTgz,
      'conanmanifest.txt': Buffer.from(manifest({ 'conanfile.py': conanfile })),
    },
    package: {
      'conan_package.tgz': packageTgz,
      'conaninfo.txt': Buffer.from(conaninfo),
      'conanmanifest.txt': Buffer.from(manifest({ 'conaninfo.txt': conaninfo })),
    },
  };
}

/** A Composer package zip (composer.json at the root). */
export function composerZip(name) {
  const json = { name, description: 'soak package', type: 'library', license: 'MIT', autoload: { 'psr-4': { 'Soak\\': 'src/' } } };
  return buildZip({ 'composer.json': JSON.stringify(json, null, 2), 'src/Lib.php': `<?php\nnamespace Soak;\n${filler(name)}` });
}

/** A Go module zip in the layout `go mod download` writes. */
export function goModuleZip(module, version) {
  const prefix = `${module}@${version}/`;
  return buildZip({
    [`${prefix}go.mod`]: `module ${module}\n\ngo 1.19\n`,
    [`${prefix}lib.go`]: `package lib\n\n${filler(`${module} ${version}`)}`,
  });
}
