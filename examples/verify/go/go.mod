module github.com/ztmint/ztmint/examples/verify/go

go 1.22

require github.com/golang-jwt/jwt/v5 v5.3.1
