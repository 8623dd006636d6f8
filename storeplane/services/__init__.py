"""Use cases called by the API and the CLI: each takes a repository and plain values.

Services hold the little logic between a request and the domain: ids, urls, deadlines, the
event that records who asked, and the retry loop on concurrent intent changes. They never
talk to the cluster; the reconciler does.
"""
