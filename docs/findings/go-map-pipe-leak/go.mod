module go-map-pipe-leak

go 1.19
