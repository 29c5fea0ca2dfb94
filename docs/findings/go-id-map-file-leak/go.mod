module go-id-map-file-leak

go 1.19
