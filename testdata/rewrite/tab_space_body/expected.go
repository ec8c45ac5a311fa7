package tabspace

import "errors"

func Get(b []byte) ([]byte, error, error) {
	if vx, __fpErr := __fp_x.Acquire(); __fpErr == nil { _, __fpTypeOK := vx.(struct{}); if !__fpTypeOK { goto __badTypex} 
			 return b, nil, errors.New("x"); goto __nomockx; __badTypex: __fp_x.BadType(vx, "struct{}"); __nomockx: };
	_ = b
	if vy, __fpErr := __fp_y.Acquire(); __fpErr == nil { y, __fpTypeOK := vy.(string); if !__fpTypeOK { goto __badTypey} 
		 if y != "" {
			  return nil, nil, errors.New(y)
		 }; goto __nomocky; __badTypey: __fp_y.BadType(vy, "string"); __nomocky: };
	return b, nil, nil
}
