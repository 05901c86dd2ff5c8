package rules

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "/",
		"/":                      "/",
		"/auth/sign_in":          "/auth/sign_in",
		"/auth/sign_in/":         "/auth/sign_in",
		"//auth//sign_in":        "/auth/sign_in",
		"auth/sign_in":           "/auth/sign_in",
		"/auth/sign%5Fin":        "/auth/sign_in",
		"/auth/sign%5fin.json/":  "/auth/sign_in.json",
		"/a%2Fb":                 "/a/b",
		"/bad%zz":                "/bad%zz",
		"/end%4":                 "/end%4",
		"/api/v1/accounts/1///x": "/api/v1/accounts/1/x",
	} {
		if got := NormalizePath(in); got != want {
			t.Errorf("NormalizePath(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"/auth/sign_in.json": "/auth/sign_in", "/a.b/c": "/a", "/.x": "/", "/x": "/x"} {
		if got := StripExtension(in); got != want {
			t.Errorf("StripExtension(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRequiredLiterals(t *testing.T) {
	for re, want := range map[string]string{
		`/api/v1/accounts/(\d+)/upload`:         "/api/v1/accounts/|/upload",
		`^/api/v2/accounts/(\d+)/reports/drill`: "/api/v2/accounts/|/reports/drill",
		`(verify|backup)`:                       "",
		`(?i)/Admin`:                            "",
		`/x`:                                    "/x",
	} {
		if got := strings.Join(requiredLiterals(re), "|"); got != want {
			t.Errorf("requiredLiterals(%q) = %q, want %q", re, got, want)
		}
	}
}

func TestChatwootAPIUser(t *testing.T) {
	dta := base64.StdEncoding.EncodeToString([]byte(`{"uid":"agent@x.io","client":"c","access-token":"t"}`))
	for _, tc := range []struct {
		h    http.Header
		want string
		ok   bool
	}{
		{http.Header{"Authorization": {"Bearer " + dta}}, "agent@x.io", true},
		{http.Header{"Authorization": {"Bearer opaque123"}}, "opaque123", true},
		{http.Header{"Uid": {"u@x.io"}, "Api_access_token": {"t"}}, "u@x.io", true},
		{http.Header{"Api_access_token": {"tok"}}, "tok", true},
		{http.Header{"Uid": {"  "}}, "", false},
		{http.Header{}, "", false},
		{http.Header{"Authorization": {"bearer " + dta}}, "agent@x.io", true},
		{http.Header{"Authorization": {"BEARER " + dta}, "Uid": {"hdr@x.io"}}, "hdr@x.io", true},
		{http.Header{"Authorization": {"Bearer"}, "Uid": {"u@x.io"}}, "", false},
		{http.Header{"Authorization": {"Bearer "}, "Uid": {"u@x.io"}}, "", false},
		{http.Header{"Authorization": {"Bearer " + base64.RawStdEncoding.EncodeToString([]byte(`{"uid":"a","client":"c","access-token":"t"}`))}}, base64.RawStdEncoding.EncodeToString([]byte(`{"uid":"a","client":"c","access-token":"t"}`)), true},
		{http.Header{"Authorization": {"Bearer " + base64.StdEncoding.EncodeToString([]byte(`{"uid":"a","client":""}`))}}, base64.StdEncoding.EncodeToString([]byte(`{"uid":"a","client":""}`)), true},
		{http.Header{"Authorization": {"Token abc"}, "Api_access_token": {"tok"}}, "tok", true},
	} {
		v, ok := chatwootAPIUser(&Request{Header: tc.h})
		if got := v.ToS(); got != tc.want || ok != tc.ok {
			t.Errorf("%v: %q %v, want %q %v", tc.h, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParamsPrecedence(t *testing.T) {
	for _, tc := range []struct {
		ct, body, query, want string
		ok                    bool
	}{
		{"application/json", `{"email":"body@x"}`, "", "body@x", true},
		{"application/json", `{"email":"body@x"}`, "email=query@x", "query@x", true},
		{"application/x-www-form-urlencoded", "email=a&email=b", "", "b", true},
		{"application/json", `{"email":null}`, "", "", false},
		{"application/json", `{"email":{"a":1}}`, "", `{"a" => 1}`, true},
		{"application/json", `{"email":42}`, "", "42", true},
		{"application/json", `not json`, "", "", false},
		{"text/plain", `email=x`, "", "", false},
		{"multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nm@x\r\n--B--\r\n", "", "m@x", true},
	} {
		r := &Request{Header: http.Header{"Content-Type": {tc.ct}}, Body: []byte(tc.body), RawQuery: tc.query}
		got, ok := r.Param("email")
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s %q ?%s: %q %v, want %q %v", tc.ct, tc.body, tc.query, got, ok, tc.want, tc.ok)
		}
	}
}
