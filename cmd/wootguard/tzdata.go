package main

// The time zone database is built in, so that schedules in a named zone
// (Europe/Berlin) work on machines and containers without /usr/share/zoneinfo.
import _ "time/tzdata"
