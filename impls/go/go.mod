module vforkcheck/impls/go

go 1.19
