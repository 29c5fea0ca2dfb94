module go-pidfd-exec-failure-leak

go 1.22
