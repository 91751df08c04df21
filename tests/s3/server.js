'use strict'
// S3-protocol server for the media store's tests: @20minutes/s3rver (checks
// AWS Signature V4, headers and query strings) on loopback, port 0.
//   node server.js MODULES_DIR DATA_DIR BUCKET
// Prints "port N" on stdout once it listens; stops on SIGTERM or stdin EOF.
const path = require('node:path')
const [modules, dir, bucket] = process.argv.slice(2)
const S3rver = require(path.join(modules, '@20minutes/s3rver'))
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: dir,
  vhostBuckets: false,
  configureBuckets: [{ name: bucket, configs: [] }],
})
server.run().then((addr) => {
  process.stdout.write(`port ${addr.port}\n`)
})
process.on('SIGTERM', () => process.exit(0))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
