package main

func main() {
	if vmainFailpoint, __fpErr := __fp_mainFailpoint.Acquire(); __fpErr == nil { _, __fpTypeOK := vmainFailpoint.(struct{}); if !__fpTypeOK { goto __badTypemainFailpoint} ; goto __nomockmainFailpoint; __badTypemainFailpoint: __fp_mainFailpoint.BadType(vmainFailpoint, "struct{}"); __nomockmainFailpoint: };
	println("hello")
}
