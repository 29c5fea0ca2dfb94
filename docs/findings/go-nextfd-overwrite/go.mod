module go-nextfd-overwrite

go 1.19
